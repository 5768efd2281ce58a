"""The trained extractive reader: the built-in model fine-tuned to point at an answer span.

Trained at install from question sets with marked answers (models.span_reader_training)
and run as an int8 ONNX graph: question and context in, a start and an end score per
token out. Offsets are into the context as given; callers pass NFC text.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.artifact_cache import artifact_problem, cache_root
from models.bundled import QUERY_PREFIX
from models.convert_e5 import conversion_key

# Question + context tokens read in one pass (training windows have the same length).
MAX_TOKENS = 192
# Longest answer, in tokens, and how many best starts and ends are paired.
MAX_ANSWER = 30
TOP = 20
# Spans are chosen by probability times LENGTH_DECAY ** (tokens - 1): answers are short,
# and a long span the reader is about as sure of mostly holds a short right one plus its
# clause. Held-out XQuAD-vi F1 over all five folds (benchmarks/train_reader.py readers):
# 1.0 .4865, 0.975 .4916, 0.95 .4931, 0.92 .4911, 0.86 .4827.
LENGTH_DECAY = 0.95
# Bump when the training recipe changes: another recipe builds another folder.
RECIPE = "frozen4-192-cloze-what-v1"
INFO_FILE = "reader-info.json"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadSpan:
    """A span of the context, [start, end), with its probability: the product of the
    softmaxed start and end scores over the context's tokens."""

    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class ReaderInfo:
    """What a trained reader was trained on, to tell in-sample figures from held-out ones."""

    questions: int
    # SHA-256 of each file it learnt from (question files first).
    sources: tuple[str, ...]
    epochs: float


def reader_key(sources: tuple[str, ...]) -> str:
    """Names a trained reader: the built-in model, the recipe and the training files."""
    return f"{conversion_key()}|{RECIPE}|{','.join(sources)}"


def reader_dir() -> Path:
    """Where the install step puts the trained reader."""
    return cache_root() / conversion_key() / f"span-reader-{RECIPE}"


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


class SpanReader:
    """A trained reader loaded from its folder (int8 ONNX graph and tokenizer)."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.folder = folder
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = len(os.sched_getaffinity(0))
        self._session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        raw = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        self.info = ReaderInfo(raw["questions"], tuple(raw["sources"]), raw["epochs"])

    def scores(self, question: str, context: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Start and end scores (tokens, 2) of the context's tokens, and their character
        spans in `context`; the context is cut after MAX_TOKENS tokens in all."""
        encoded = self._tokenizer(
            QUERY_PREFIX + question,
            context,
            truncation="only_second",
            max_length=MAX_TOKENS,
            return_offsets_mapping=True,
        )
        ids = np.array([encoded["input_ids"]], dtype=np.int64)
        logits = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        inside = [i for i, part in enumerate(encoded.sequence_ids()) if part == 1]
        offsets = [tuple(encoded["offset_mapping"][i]) for i in inside]
        return logits[0][0][inside], offsets

    def read(self, question: str, context: str) -> ReadSpan | None:
        """The best span of at most MAX_ANSWER tokens (its probability, less for each token
        beyond the first: LENGTH_DECAY), or None for an empty context."""
        scores, offsets = self.scores(question, context)
        if not offsets:
            return None
        starts, ends = _softmax(scores[:, 0]), _softmax(scores[:, 1])
        firsts = np.argsort(-starts)[:TOP]
        lasts = np.argsort(-ends)[:TOP]
        best, found = -1.0, None
        for first in firsts:
            for last in lasts:
                probability = float(starts[first] * ends[last])
                score = probability * LENGTH_DECAY ** (last - first)
                if first <= last < first + MAX_ANSWER and score > best:
                    best = score
                    found = ReadSpan(offsets[first][0], offsets[last][1], probability)
        return found


@functools.cache
def load_span_reader() -> SpanReader | None:
    """The reader the install step trained (loaded once per process), or None where none
    was trained (no question sets at install, as on a hosted demo) or its files are
    damaged: answers then come from the rules alone."""
    folder = reader_dir()
    if not folder.exists():
        return None
    try:
        raw = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        problem = artifact_problem(folder, reader_key(tuple(raw["sources"])))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problem = f"unreadable {INFO_FILE} ({exc})"
    if problem is not None:
        log.warning(
            "Not using the trained reader in %s: %s. Answers come from the rules alone; "
            "`make reader` trains it again.",
            folder,
            problem,
        )
        return None
    return SpanReader(folder)
