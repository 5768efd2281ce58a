"""Ingest throughput: one process against Ray actors on a local cluster of this machine.

    python benchmarks/ray_ingest.py [--source FILE_OR_FOLDER] [--cpus 2] [--index TARGET]

Both runs read, split and embed the same documents into an empty index (a fresh folder,
or a fresh database when --index is a postgresql:// URI of a server to create it on) and
print passages per second, with the time spent embedding and the time spent writing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import DEFAULT_MODEL, load_embedder
from qa import Engine
from qa.engine import Encoder

ROOT = Path(__file__).resolve().parents[1]


def timed(encode: Encoder, spent: list[float]) -> Encoder:
    """`encode`, adding its seconds to `spent`."""

    def run(texts: Sequence[str], progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        vectors = encode(texts, progress)
        spent.append(time.perf_counter() - started)
        return vectors

    return run


def ingest(source: str, target: str, encode: Encoder, model) -> tuple[int, float, float]:
    """Passages indexed, total seconds and seconds spent embedding."""
    spent: list[float] = []
    started = time.perf_counter()
    engine = Engine.create(target, model)
    engine.add([source], encode=timed(encode, spent))
    engine.save()
    return engine.info().passages, time.perf_counter() - started, sum(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", default=str(ROOT.parent / "shared/eval/xquad_vi_dev_passages.jsonl")
    )
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--embedder", default=DEFAULT_MODEL)
    parser.add_argument("--index", help="a postgresql:// URI (default: temporary folders)")
    args = parser.parse_args()
    from qa.distributed import ray_encoder

    model = load_embedder(args.embedder)
    model.encode_passages(["khởi động"])  # load the session before timing

    def target(name: str) -> str:
        if args.index:
            import psycopg

            with psycopg.connect(args.index, autocommit=True) as db:
                db.execute(f"DROP DATABASE IF EXISTS {name}")
                db.execute(f"CREATE DATABASE {name}")
            return urlunsplit(urlsplit(args.index)._replace(path=f"/{name}"))
        return tempfile.mkdtemp(prefix=f"{name}-")

    rows = [("one process", *ingest(args.source, target("single"), model.encode_passages, model))]
    started = time.perf_counter()
    with ray_encoder(model, cpus=args.cpus) as encode:
        ray_start = time.perf_counter() - started
        figures = ingest(args.source, target("ray"), encode, model)
        rows.append((f"Ray, local cluster of {args.cpus} CPUs", *figures))
    print(f"\nRay local cluster start: {ray_start:.1f} s (not counted below)")
    print("| ingest | passages | total s | embedding s | writing s | passages/s |")
    print("|---|---|---|---|---|---|")
    for label, passages, total, embedding in rows:
        print(
            f"| {label} | {passages} | {total:.1f} | {embedding:.1f} | "
            f"{total - embedding:.1f} | {passages / total:.1f} |"
        )


if __name__ == "__main__":
    main()
