"""Train the reader on four fifths of the XQuAD-vi dev articles and measure `ask` with and
without it on the held-out fifth, and on the seed sets, in one run.

    HF_HUB_OFFLINE=1 python benchmarks/train_reader.py [--fold 0] [--epochs 4] [--reader DIR]

The install step (qa.reader_training) trains the reader on every XQuAD-vi dev question
and clozes made from its passages and from samples/, so `python -m qa eval` on that set
is in-sample. This script trains the same recipe on the articles outside fold F (every
fifth article, sorted by number: no held-out article, nor a cloze of its passages, is
seen in training), exports it to int8 ONNX as the install does, and evaluates the engine
with the rules alone and with the reader on the fold's questions, the seed dev questions
and the unanswerable seed questions (neither seed set is ever trained on). About 25
minutes on 2 cores. With --reader DIR the fold's reader is kept in DIR, and a later run
with the same DIR (and fold) measures `ask` again without training: for tuning how `ask`
uses the reader on questions it never learnt from.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.span_reader import INFO_FILE, SpanReader  # noqa: E402
from models.span_reader_training import (  # noqa: E402
    EPOCHS,
    XQUAD_PASSAGES,
    XQUAD_QUESTIONS,
    Example,
    export,
    read_xquad,
    train,
)
from qa.engine import Engine  # noqa: E402
from qa.evaluate import evaluate, read_questions  # noqa: E402
from qa.reader_training import training_set  # noqa: E402

FOLDS = 5
COLUMNS = ("answered", "em", "f1", "span_contains_gold")


def _row(label: str, result: dict) -> str:
    if result["questions"]:
        figures = " ".join(f"{result[name]:>8.3f}" for name in COLUMNS)
    else:
        figures = f"false-answer rate {result['false_answer_rate']:.3f}"
    latency = result["latency_ms"]
    return f"{label:34} {figures}   p50 {latency['p50']:>6} ms  p95 {latency['p95']:>6} ms"


def _fold_reader(
    folder: Path, args: argparse.Namespace, training: list[Example]
) -> tuple[SpanReader, dict]:
    """The fold's reader kept in `folder`, or one trained on `training` (and the clozes)
    and saved there, with its info."""
    info_file = folder / INFO_FILE
    if info_file.exists():
        info = json.loads(info_file.read_text(encoding="utf-8"))
        if info.get("fold") != args.fold:
            raise SystemExit(
                f"{folder} holds the reader of fold {info.get('fold')}, not {args.fold}"
            )
        return SpanReader(folder), info
    learnt = training_set(training, sorted(args.samples.glob("*.txt")))
    began = time.perf_counter()
    model = train(learnt, args.epochs)
    info = {
        "questions": len(training),
        "clozes": len(learnt) - len(training),
        "sources": [],
        "epochs": args.epochs,
        "fold": args.fold,
        "minutes": round((time.perf_counter() - began) / 60, 1),
    }
    folder.mkdir(parents=True, exist_ok=True)
    export(model, folder, info)
    return SpanReader(folder), info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--fold", type=int, default=0, choices=range(FOLDS))
    parser.add_argument("--epochs", type=float, default=EPOCHS)
    parser.add_argument("--samples", type=Path, default=REPO / "samples")
    parser.add_argument(
        "--reader", type=Path, help="keep the fold's reader here, or reuse the one kept here"
    )
    args = parser.parse_args()

    examples = read_xquad(args.eval)
    articles = sorted({e.article for e in examples}, key=int)
    held_out = set(articles[args.fold :: FOLDS])
    training = [e for e in examples if e.article not in held_out]

    xquad = [
        q
        for q in read_questions(args.eval / XQUAD_QUESTIONS)
        if str(q.doc).split("-")[0] in held_out
    ]
    sets = {
        f"XQuAD-vi fold {args.fold}": (xquad, [args.eval / XQUAD_PASSAGES]),
        "seed dev": (read_questions(args.eval / "seed_questions_dev.jsonl"), [args.corpus]),
        "seed unanswerable": (
            read_questions(args.eval / "seed_unanswerable_dev.jsonl"),
            [args.corpus],
        ),
    }
    with tempfile.TemporaryDirectory() as scratch:
        reader, info = _fold_reader(args.reader or Path(scratch), args, training)
        engines: dict[tuple[Path, ...], Engine] = {}
        print(
            f"\nfold {args.fold}: trained on {info['questions']} questions of "
            f"{len(articles) - len(held_out)} articles and {info['clozes']} clozes "
            f"({info['epochs']} epochs, {info['minutes']} min); "
            f"held out {len(xquad)} questions of {len(held_out)} articles"
        )
        print(f"{'set, reader':34} {' '.join(f'{c[:8]:>8}' for c in COLUMNS)}")
        for name, (questions, sources) in sets.items():
            key = tuple(sources)
            if key not in engines:
                engines[key] = Engine.build([str(s) for s in sources])
            engine = engines[key]
            for label, chosen in (("rules", None), ("rules + trained reader", reader)):
                engine.span_reader = chosen
                result = evaluate(engine, questions, progress=False)
                print(_row(f"{name}, {label}", result), flush=True)


if __name__ == "__main__":
    main()
