"""Shared fixtures: the real shared corpus, the built-in model and a built index."""

from __future__ import annotations

import os
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
