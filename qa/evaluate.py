"""Evaluation over question sets: retrieval metrics, broken down by variant and kind."""

from __future__ import annotations

import json
import math
import statistics
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from index.normalize import fold
from qa.engine import Engine
from qa.types import Answer, Hit

# Passages fetched per question, so that ten distinct documents remain after grouping.
SEARCH_DEPTH = 30
CUTOFF = 10


@dataclass(frozen=True)
class Question:
    """One evaluation question with its gold answers and where they are.

    Seed questions name a report (`doc`): a hit is relevant when it is a passage of that
    report containing a gold answer. XQuAD questions name a paragraph (`passage_id`):
    the paragraph is the relevant document, ranked among distinct documents.
    """

    qid: str
    text: str
    answers: tuple[str, ...]
    doc: str | None
    kind: str
    variant: str
    document_level: bool


def read_questions(path: str | Path) -> list[Question]:
    """Questions in the seed format (`doc`) or the XQuAD format (`passage_id`)."""
    questions = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            questions.append(
                Question(
                    qid=str(record["id"]),
                    text=record["question"],
                    answers=tuple(record.get("answers") or ()),
                    doc=record.get("passage_id", record.get("doc")),
                    kind=record.get("kind", "unknown"),
                    variant=record.get("variant", "plain"),
                    document_level="passage_id" in record,
                )
            )
    return questions


def first_relevant_rank(question: Question, hits: Sequence[Hit]) -> int | None:
    """1-based rank of the first relevant hit (see Question), or None."""
    if question.document_level:
        documents = list(dict.fromkeys(hit.doc_id for hit in hits))
        return documents.index(question.doc) + 1 if question.doc in documents else None
    answers = [fold(answer) for answer in question.answers]
    for rank, hit in enumerate(hits, start=1):
        if hit.doc_id == question.doc and any(a in fold(hit.text) for a in answers):
            return rank
    return None


def retrieval_scores(rank: int | None) -> dict[str, float]:
    """recall@1, recall@5, mrr@10 and ndcg@10 of one question with one relevant item."""
    found = rank is not None and rank <= CUTOFF
    return {
        "recall@1": float(rank == 1),
        "recall@5": float(rank is not None and rank <= 5),
        "mrr@10": 1.0 / rank if found else 0.0,
        "ndcg@10": 1.0 / math.log2(rank + 1) if found else 0.0,
    }


def _mean_by(rows: list[dict[str, float]], labels: list[str]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for label, row in zip(labels, rows, strict=True):
        groups[label].append(row)
    return {label: {**_means(group), "n": len(group)} for label, group in sorted(groups.items())}


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys() if rows else ()
    return {key: round(statistics.fmean(row[key] for row in rows), 4) for key in keys}


def _squad_tokens(text: str) -> list[str]:
    """SQuAD-style normalisation: NFC, lower case, no punctuation or English articles."""
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return [t for t in text.split() if t not in ("a", "an", "the")]


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer."""
    return float(any(_squad_tokens(prediction) == _squad_tokens(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best token-overlap F1 of the prediction against the gold answers."""
    predicted = _squad_tokens(prediction)
    best = 0.0
    for gold in golds:
        expected = _squad_tokens(gold)
        common = sum((Counter(predicted) & Counter(expected)).values())
        if common:
            precision, recall = common / len(predicted), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def answer_scores(answer: Answer, golds: Sequence[str]) -> dict[str, float]:
    """em, f1 and span_contains_gold of one answer (all zero when nothing was found)."""
    if not answer.found:
        return {"answered": 0.0, "em": 0.0, "f1": 0.0, "span_contains_gold": 0.0}
    folded = fold(answer.text)
    return {
        "answered": 1.0,
        "em": exact_match(answer.text, golds),
        "f1": token_f1(answer.text, golds),
        "span_contains_gold": float(any(fold(g) in folded for g in golds)),
    }


def evaluate(
    engine: Engine, questions: Sequence[Question], mode: str = "hybrid", progress: bool = True
) -> dict[str, object]:
    """Run every question through `engine.search` and `engine.ask` and report the metrics.

    Answerable questions give retrieval and answer metrics; unanswerable ones (no gold
    answers) give the false-answer rate, the share that got an answer anyway.
    """
    rows: list[dict[str, float]] = []
    labelled: list[Question] = []
    false_answers: list[float] = []
    latencies: list[float] = []
    for question in tqdm(questions, desc=f"Evaluating ({mode})", disable=not progress):
        started = time.perf_counter()
        answer = engine.ask(question.text, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        if not question.answers:
            false_answers.append(float(answer.found))
            continue
        hits = engine.search(question.text, k=SEARCH_DEPTH, mode=mode)
        rank = first_relevant_rank(question, hits)
        rows.append({**retrieval_scores(rank), **answer_scores(answer, question.answers)})
        labelled.append(question)
    ordered = sorted(latencies)
    return {
        "mode": mode,
        "questions": len(rows),
        "unanswerable_questions": len(false_answers),
        **_means(rows),
        "false_answer_rate": round(statistics.fmean(false_answers), 4) if false_answers else None,
        "by_variant": _mean_by(rows, [q.variant for q in labelled]),
        "by_kind": _mean_by(rows, [q.kind for q in labelled]),
        "latency_ms": {
            "p50": round(statistics.median(ordered), 2) if ordered else None,
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
        },
    }
