"""The embedder contract and the batching loop every backend shares."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

# Measured on 2 cores with fp32 ONNX, texts sorted by length: batches of 4-8 give
# 12.4-12.6 passages/s, of 16 give 11.1.
BATCH_SIZE = 8
# Below this many texts a progress bar is noise.
PROGRESS_MIN_TEXTS = 128


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-normalised float32 vectors.

    Asymmetric prefixes ("query: " / "passage: ") are applied inside the embedder,
    never by callers.
    """

    name: str
    dim: int

    @property
    def fingerprint(self) -> str:
        """Changes whenever the weights, the prefixes or the numeric path change."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries; returns an array of shape (len(texts), dim)."""
        ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed passages to be indexed; returns an array of shape (len(texts), dim)."""
        ...


@runtime_checkable
class OneCoreQueries(Protocol):
    """An embedder that can embed queries on one core, leaving the others free: on a
    large index the engine scores BM25 there meanwhile."""

    def encode_queries_on_one_core(self, texts: Sequence[str]) -> np.ndarray:
        """encode_queries, on the calling thread alone; the same vectors."""
        ...


def clean_for_model(text: str) -> str:
    """NFC and trimmed: tokenisers split NFD text into many more pieces."""
    return unicodedata.normalize("NFC", text).strip()


def encode_in_batches(
    texts: Sequence[str],
    encode_batch: Callable[[list[str]], np.ndarray],
    dim: int,
    progress: bool,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """Run `encode_batch` over `texts` in batches and return unit-normalised float32 rows."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    # Texts of similar length share a batch, so little of each batch is padding.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    show = progress and len(texts) >= PROGRESS_MIN_TEXTS
    with tqdm(total=len(texts), desc="Embedding passages", unit="passage", disable=not show) as bar:
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = encode_batch([clean_for_model(texts[i]) for i in rows])
            bar.update(len(rows))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
