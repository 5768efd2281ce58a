"""Distributed ingestion on a local two-CPU Ray cluster gives the passages and vectors of
the single-process ingest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import psycopg
import pytest

from qa import Engine
from qa.distributed import ray_encoder

DOCS = ["004_810253bfbed135bd.txt", "002_c797d9b60be38b26.txt"]


def test_ray_ingest_into_postgres_matches_single_process(
    engine: Engine, corpus_dir: Path, pg_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [corpus_dir / name for name in DOCS]
    single = Engine.empty(engine.embedder)
    single.add(paths)
    # A short folder of its own: Ray's socket paths must stay under 108 characters.
    monkeypatch.setenv("RAY_TMPDIR", tempfile.mkdtemp(prefix="ray-"))
    distributed = Engine.create(pg_uri, engine.embedder)
    with ray_encoder(engine.embedder, cpus=2) as encode:
        report = distributed.add(paths, encode=encode)
    assert sorted(report.added) == sorted(DOCS)
    keys = [(p.doc_id, p.start, p.end) for p in single.passages]
    assert [(p.doc_id, p.start, p.end) for p in distributed.passages] == keys
    with psycopg.connect(pg_uri) as db:
        rows = db.execute("SELECT embedding::text FROM vietqa_passages ORDER BY id").fetchall()
    vectors = np.array([[float(x) for x in text.strip("[]").split(",")] for (text,) in rows])
    expected = single._data.dense.vectors()
    cosines = np.sum(vectors * expected, axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(expected, axis=1)
    )
    assert cosines.min() >= 0.999
