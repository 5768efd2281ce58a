"""`python -m qa`: ingest, search, info and eval from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from index.dense import KINDS as DENSE_KINDS
from models import DEFAULT_MODEL
from models.base import file_sha256
from qa.engine import MODES, Engine
from qa.errors import IndexNotFound, QAError
from qa.evaluate import evaluate, read_questions
from qa.types import to_dict


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _ingest(args: argparse.Namespace) -> None:
    try:
        engine = Engine.load(args.index, embedder=args.embedder)
    except IndexNotFound:
        engine = Engine.create(args.index, args.embedder or DEFAULT_MODEL, args.dense_index)
    if args.ray is None:
        report = engine.add(args.paths, progress=True)
    else:
        from qa.distributed import ray_encoder

        with ray_encoder(engine.embedder, args.ray or None) as encode:
            report = engine.add(args.paths, progress=True, encode=encode)
    engine.save()
    info = engine.info()
    print(
        f"{len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.unchanged)} unchanged; index {info.folder}: "
        f"{info.documents} documents, {info.passages} passages ({info.embedder})"
    )
    for line in report.duplicates:
        print(f"skipped duplicate: {line}")
    for line in report.skipped_files:
        print(f"skipped file: {line}")


def _search(args: argparse.Namespace) -> None:
    engine = Engine.load(args.index)
    hits = engine.search(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json([to_dict(hit) for hit in hits])
        return
    for hit in hits:
        print(f"#{hit.rank} {hit.title} [{hit.doc_id} {hit.start}:{hit.end}] {hit.fused_score:.4f}")
        print(f"   {hit.text}\n")


def _ask(args: argparse.Namespace) -> None:
    answer = Engine.load(args.index).ask(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json(to_dict(answer))
        return
    if not answer.found or answer.hit is None or answer.span is None:
        print(answer.message)
        for item in answer.passages[:3]:
            print(
                f"  closest: {item.hit.title} [{item.hit.doc_id} {item.hit.start}:{item.hit.end}]"
            )
        return
    hit, span = answer.hit, answer.span
    sentence = answer.sentence or span
    marked = (
        hit.text[sentence.start : span.start]
        + f"[[{answer.text}]]"
        + hit.text[span.end : sentence.end]
    )
    print(f"{answer.text}    (confidence {answer.confidence:.2f})")
    print(f"  {marked}")
    document = answer.document_span
    print(f"  source: {hit.title} [{hit.doc_id} {document.start}:{document.end}]")


def _info(args: argparse.Namespace) -> None:
    info = Engine.load(args.index).info()
    if args.json:
        _print_json(to_dict(info))
        return
    for key, value in to_dict(info).items():
        print(f"{key}: {value}")


def _eval(args: argparse.Namespace) -> None:
    questions = read_questions(args.questions)
    sources = [s for s in (args.passages, args.corpus) if s]
    if args.index:
        engine = Engine.load(args.index)
    elif sources:
        engine = Engine.build(sources, embedder=args.embedder or DEFAULT_MODEL, progress=True)
        engine.save(tempfile.mkdtemp(prefix="qa-eval-"))
    else:
        raise SystemExit("eval needs --index, --corpus or --passages")
    modes = MODES if args.mode == "all" else (args.mode,)
    reader = _reader_note(engine, Path(args.questions))
    results = {mode: {**evaluate(engine, questions, mode), "reader": reader} for mode in modes}
    if args.json:
        _print_json(results if len(modes) > 1 else results[modes[0]])
        return
    for result in results.values():
        _print_report(result)


def _reader_note(engine: Engine, questions: Path) -> dict[str, object]:
    """Which reader answers, and whether it learnt from these very questions (then its
    answer figures are in-sample; benchmarks/train_reader.py gives held-out ones)."""
    reader = engine.span_reader
    if reader is None:
        return {"trained": False, "in_sample": False}
    digest = file_sha256(questions)
    return {
        "trained": True,
        "training_questions": reader.info.questions,
        "in_sample": digest in reader.info.sources,
    }


def _print_report(result: dict[str, object]) -> None:
    print(f"\n== mode {result['mode']}: {result['questions']} answerable questions ==")
    reader: dict[str, object] = result["reader"]  # type: ignore[assignment]
    if not reader["trained"]:
        print("answers: rules only (no trained reader installed)")
    else:
        trained_on = reader["training_questions"]
        print(f"answers: rules + trained reader ({trained_on} training questions)")
    if reader["in_sample"]:
        print(
            "NOTE: the trained reader learnt from this question file, so its answer figures "
            "are in-sample; benchmarks/train_reader.py measures held-out articles."
        )
    if result["questions"]:
        print(_metrics_row(result, RETRIEVAL_METRICS))
        print(_metrics_row(result, ANSWER_METRICS))
    if result["unanswerable_questions"]:
        print(
            f"unanswerable: {result['unanswerable_questions']} questions, "
            f"false-answer rate {result['false_answer_rate']:.3f}"
        )
    for group in ("by_variant", "by_kind"):
        for label, values in result[group].items():  # type: ignore[union-attr]
            metrics = _metrics_row(values, RETRIEVAL_METRICS[:1] + ANSWER_METRICS[1:])
            print(f"  {group[3:]}={label:<14} n={values['n']:<4} {metrics}")
    latency = result["latency_ms"]
    print(f"ask latency p50 {latency['p50']} ms, p95 {latency['p95']} ms")  # type: ignore[index]


INDEX_HELP = "an index folder or a postgresql://USER@HOST/DATABASE URI"
RETRIEVAL_METRICS = ("recall@1", "recall@5", "mrr@10", "ndcg@10")
ANSWER_METRICS = ("answered", "em", "f1", "span_contains_gold")


def _metrics_row(values: object, names: Sequence[str]) -> str:
    return "  ".join(f"{name} {values[name]:.3f}" for name in names)  # type: ignore[index]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="add files or folders to an index")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--index", required=True, help=f"{INDEX_HELP} (created if missing)")
    ingest.add_argument("--embedder", help=f"model name or folder (new index: {DEFAULT_MODEL})")
    ingest.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="embed in Ray actors: on the cluster at ADDRESS, else on a local one",
    )
    ingest.add_argument(
        "--dense-index",
        choices=DENSE_KINDS,
        default="auto",
        help=(
            "new folder index: exact search, IVF-SQ8, or auto (IVF-SQ8 from 50k passages); "
            "a PostgreSQL index uses HNSW"
        ),
    )
    ingest.set_defaults(run=_ingest)

    search = commands.add_parser("search", help="print the best passages for a question")
    search.add_argument("question")
    search.add_argument("--index", required=True, help=INDEX_HELP)
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=MODES, default="hybrid")
    search.add_argument("--json", action="store_true")
    search.set_defaults(run=_search)

    ask = commands.add_parser("ask", help="answer a question, with its source")
    ask.add_argument("question")
    ask.add_argument("--index", required=True, help=INDEX_HELP)
    ask.add_argument("-k", type=int, default=5, help="passages to read")
    ask.add_argument("--mode", choices=MODES, default="hybrid")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(run=_ask)

    info = commands.add_parser("info", help="describe an index")
    info.add_argument("--index", required=True, help=INDEX_HELP)
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=_info)

    evaluation = commands.add_parser("eval", help="score retrieval on a question set")
    evaluation.add_argument("--questions", required=True)
    evaluation.add_argument("--passages", help="a .jsonl of passages (XQuAD format)")
    evaluation.add_argument("--corpus", help="a folder of reports")
    evaluation.add_argument("--index", help=f"a built index to reuse: {INDEX_HELP}")
    evaluation.add_argument("--embedder", help="model for a new index")
    evaluation.add_argument("--mode", choices=(*MODES, "all"), default="hybrid")
    evaluation.add_argument("--json", action="store_true")
    evaluation.set_defaults(run=_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; known errors print their message and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
