"""`python app.py [--corpus DIR] [--index DIR]`: the chat page (wiring only; see qa/webapp.py).

Host and port follow GRADIO_SERVER_NAME / GRADIO_SERVER_PORT; caches go to VIETQA_CACHE_DIR.
"""

import argparse
import logging
import os
import sys
from pathlib import Path

from qa.corpus_index import open_corpus_index
from qa.errors import QAError
from qa.webapp import serve

SAMPLES = Path(__file__).resolve().parent / "samples"


def main() -> None:
    parser = argparse.ArgumentParser(description="The chat page over a folder of reports.")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=os.environ.get("VIETQA_CORPUS") or SAMPLES,
        help="folder of .txt/.md/.jsonl reports (default: $VIETQA_CORPUS, else samples/)",
    )
    parser.add_argument(
        "--index",
        default=os.environ.get("VIETQA_INDEX") or None,
        help=(
            "where to keep its index: a folder or a postgresql:// URI shared by several "
            "app processes (default: $VIETQA_INDEX, else the user cache)"
        ),
    )
    args = parser.parse_args()
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("qa").setLevel(logging.INFO)
    try:
        engine = open_corpus_index(args.corpus, args.index)
    except QAError as exc:
        sys.exit(f"error: {exc}")
    serve(engine)


if __name__ == "__main__":
    main()
