"""Distributed ingestion: passages embedded in Ray actors, each loading the embedder once.

Only `python -m qa ingest ... --ray` imports this module, and only it imports Ray. Files
are read and cut into passages by the driver (cheap), the passage texts become a Ray
Dataset, and `map_batches` sends batches to a pool of actors, one per node holding all
of its CPUs (the embedder already runs on every core of its machine: two actors on one
node would only fight for them); the vectors come back in passage order and the driver
writes them to the target store in one change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from models import Embedder, load_embedder
from qa.engine import Encoder
from qa.errors import InvalidArgument, ModelMismatch

BATCH_SIZE = 32
# The folder holding qa/, index/ and models/, for workers of a local cluster.
PROJECT_ROOT = str(Path(__file__).resolve().parents[1])


class PassageEncoder:
    """A Ray actor: loads the embedder once, then embeds batches of passage texts."""

    def __init__(self, name: str, fingerprint: str) -> None:
        self.embedder = load_embedder(name)
        if self.embedder.fingerprint != fingerprint:
            raise ModelMismatch(
                f"embedder {name!r} on this Ray node has fingerprint "
                f"{self.embedder.fingerprint}, the index needs {fingerprint}"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode_passages([str(text) for text in batch["text"]])
        return {"row": batch["row"], "vector": vectors}


@contextlib.contextmanager
def ray_encoder(
    embedder: Embedder, address: str | None = None, cpus: int | None = None
) -> Iterator[Encoder]:
    """An encoder for Engine.add that embeds on a Ray cluster: the one at `address`, else a
    local one on `cpus` cores (default: all). Ray is shut down on leaving."""
    import ray

    if address:
        try:
            ray.init(address=address)
        except ConnectionError as exc:
            raise InvalidArgument(f"cannot reach the Ray cluster at {address}: {exc}") from exc
    else:
        ray.init(
            num_cpus=cpus or os.cpu_count(),
            runtime_env={"env_vars": {"PYTHONPATH": PROJECT_ROOT}},
            include_dashboard=False,
            log_to_driver=False,
        )
    try:
        node_cpu_counts = [
            n["Resources"]["CPU"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU")
        ]
        node_cpus = max(1, int(min(node_cpu_counts, default=1)))

        def encode(texts: Sequence[str], progress: bool = False) -> np.ndarray:
            if not texts:
                return np.empty((0, embedder.dim), dtype=np.float32)
            items = [{"row": row, "text": text} for row, text in enumerate(texts)]
            vectors = ray.data.from_items(items).map_batches(
                PassageEncoder,
                fn_constructor_args=(embedder.name, embedder.fingerprint),
                batch_size=BATCH_SIZE,
                batch_format="numpy",
                concurrency=max(1, len(node_cpu_counts)),
                num_cpus=node_cpus,
            )
            rows, parts = [], []
            for batch in vectors.iter_batches(batch_format="numpy", batch_size=None):
                rows.append(batch["row"])
                parts.append(batch["vector"])
            order = np.argsort(np.concatenate(rows), kind="stable")
            return np.concatenate(parts).astype(np.float32)[order]

        yield encode
    finally:
        ray.shutdown()
