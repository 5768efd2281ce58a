"""Any sentence-transformers model, from a local folder or a model hub id."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from models.base import encode_in_batches
from models.errors import ModelNotAvailable


def _default_prefixes(model_name: str, prompts: dict[str, str]) -> tuple[str, str]:
    """Query and passage prefixes: the model's own prompts, else the E5 convention."""
    query = prompts.get("query")
    passage = prompts.get("document", prompts.get("passage"))
    if query is not None or passage is not None:
        return query or "", passage or ""
    if "e5" in Path(model_name).name.lower():
        return "query: ", "passage: "
    return "", ""


class SentenceTransformerEmbedder:
    """A sentence-transformers model with mean-pooled, L2-normalised outputs."""

    def __init__(
        self,
        model_name_or_path: str,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        device: str = "cpu",
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model_name_or_path, device=device)
        except (OSError, ValueError) as exc:
            offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
            hint = (
                "HF_HUB_OFFLINE is set, so nothing was downloaded: "
                if offline
                else "It could not be downloaded: "
            )
            raise ModelNotAvailable(
                f"Cannot load the sentence-transformers model {model_name_or_path!r}. {hint}"
                "pass the path of a local model folder (for example one saved with "
                "SentenceTransformer.save), or run once with network access and "
                "HF_HUB_OFFLINE unset so it lands in the Hugging Face cache. "
                "Use embedder='default' for the built-in offline model."
            ) from exc
        self.name = model_name_or_path
        self.dim = int(self._model.get_embedding_dimension())
        default_query, default_passage = _default_prefixes(
            model_name_or_path, dict(self._model.prompts or {})
        )
        self.query_prefix = default_query if query_prefix is None else query_prefix
        self.passage_prefix = default_passage if passage_prefix is None else passage_prefix

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the prefixes and every parameter tensor, so any change of weights shows."""
        digest = hashlib.sha256()
        digest.update(f"{self.query_prefix}|{self.passage_prefix}|{self.dim}".encode())
        for key, tensor in self._model.state_dict().items():
            digest.update(key.encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
        return digest.hexdigest()[:16]

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        return self._model.encode(
            texts,
            prompt=prefix,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return encode_in_batches(
            texts, lambda batch: self._encode(batch, self.query_prefix), self.dim, progress=False
        )

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return encode_in_batches(
            texts,
            lambda batch: self._encode(batch, self.passage_prefix),
            self.dim,
            progress=progress,
        )
