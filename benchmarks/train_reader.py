"""Train the reader on four fifths of the XQuAD-vi dev articles and measure `ask` with and
without it on the held-out fifth, and on the seed sets, in one run.

    HF_HUB_OFFLINE=1 python benchmarks/train_reader.py [--fold 0] [--epochs 4]

The install step (qa.reader_training) trains the reader on every XQuAD-vi dev question
and clozes made from its passages and from samples/, so `python -m qa eval` on that set
is in-sample. This script trains the same recipe on the articles outside fold F (every
fifth article, sorted by number: no held-out article, nor a cloze of its passages, is
seen in training), exports it to int8 ONNX as the install does, and evaluates the engine
with the rules alone and with the reader on the fold's questions, the seed dev questions
and the unanswerable seed questions (neither seed set is ever trained on). About 25
minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.span_reader import SpanReader  # noqa: E402
from models.span_reader_training import (  # noqa: E402
    EPOCHS,
    XQUAD_PASSAGES,
    XQUAD_QUESTIONS,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--fold", type=int, default=0, choices=range(FOLDS))
    parser.add_argument("--epochs", type=float, default=EPOCHS)
    parser.add_argument("--samples", type=Path, default=REPO / "samples")
    args = parser.parse_args()

    examples = read_xquad(args.eval)
    articles = sorted({e.article for e in examples}, key=int)
    held_out = set(articles[args.fold :: FOLDS])
    training = [e for e in examples if e.article not in held_out]
    learnt = training_set(training, sorted(args.samples.glob("*.txt")))
    began = time.perf_counter()
    model = train(learnt, args.epochs)
    trained_min = (time.perf_counter() - began) / 60

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
    with tempfile.TemporaryDirectory() as folder:
        export(
            model, Path(folder), {"questions": len(training), "sources": [], "epochs": args.epochs}
        )
        reader = SpanReader(Path(folder))
        engines: dict[tuple[Path, ...], Engine] = {}
        print(
            f"\nfold {args.fold}: trained on {len(training)} questions of "
            f"{len(articles) - len(held_out)} articles and {len(learnt) - len(training)} "
            f"clozes ({args.epochs} epochs, "
            f"{trained_min:.1f} min); held out {len(xquad)} questions of {len(held_out)} articles"
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
