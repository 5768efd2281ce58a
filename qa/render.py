"""Answers and hits as escaped HTML for the chat page and as JSON-ready dicts for the API.

Every piece of document or user text goes through `html.escape`; only the tags written
here reach the page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from qa.types import Answer, HighlightedHit, Hit, Span

LABELS = {
    "vi": {
        "answer": "Trả lời",
        "confidence": "độ tin cậy",
        "source": "Nguồn",
        "date": "ngày",
        "file": "tệp",
        "chars": "ký tự",
        "passage": "đoạn",
        "others": "Các đoạn liên quan khác",
        "closest": "Các đoạn gần nhất",
        "error": "Không xử lý được câu hỏi",
    },
    "en": {
        "answer": "Answer",
        "confidence": "confidence",
        "source": "Source",
        "date": "date",
        "file": "file",
        "chars": "characters",
        "passage": "passage",
        "others": "Other relevant passages",
        "closest": "Closest passages",
        "error": "The question could not be handled",
    },
}


def _labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["vi"])


def _escaped(text: str) -> str:
    """Escaped text with line breaks kept: a blank line would end the chat's HTML block."""
    return html.escape(text).replace("\n", "<br>")


def _marked(text: str, lo: int, hi: int, marks: Sequence[Span], mark_class: str) -> str:
    """text[lo:hi] escaped, with the parts of `marks` inside it in <mark class=...>."""
    parts, cursor = [], lo
    for mark in sorted(marks, key=lambda span: span.start):
        start, end = max(mark.start, cursor), min(mark.end, hi)
        if start >= end:
            continue
        parts.append(_escaped(text[cursor:start]))
        parts.append(f'<mark class="{mark_class}">{_escaped(text[start:end])}</mark>')
        cursor = end
    parts.append(_escaped(text[cursor:hi]))
    return "".join(parts)


def highlight(text: str, sentence: Span | None, marks: Sequence[Span], mark_class: str) -> str:
    """Escaped `text` with `sentence` in <span class="sentence"> and `marks` in <mark>.

    Marks that cross the sentence's edges are split there, so the tags always nest.
    """
    if sentence is None:
        return _marked(text, 0, len(text), marks, mark_class)
    return (
        _marked(text, 0, sentence.start, marks, mark_class)
        + '<span class="sentence">'
        + _marked(text, sentence.start, sentence.end, marks, mark_class)
        + "</span>"
        + _marked(text, sentence.end, len(text), marks, mark_class)
    )


def _source(hit: Hit, span: Span | None, labels: dict[str, str]) -> str:
    """Title, date, file and character offsets of a passage (or of a span in its document)."""
    start, end = (span.start, span.end) if span is not None else (hit.start, hit.end)
    parts = [f"{labels['source']}: <b>{html.escape(hit.title)}</b>"]
    if hit.metadata.get("date"):
        parts.append(f"{labels['date']} {html.escape(hit.metadata['date'])}")
    parts.append(f"{labels['file']} <code>{html.escape(hit.doc_id)}</code>")
    parts.append(f"{labels['chars']} {start}–{end}")
    return '<div class="source">' + " · ".join(parts) + "</div>"


def _passage_block(item: HighlightedHit, labels: dict[str, str]) -> str:
    hit = item.hit
    body = highlight(hit.text, item.sentence, item.terms, "term")
    return (
        f'<div class="passage"><div class="rank">{labels["passage"]} {hit.rank}</div>'
        f"{_source(hit, None, labels)}<blockquote>{body}</blockquote></div>"
    )


def _passages_section(
    items: Sequence[HighlightedHit], title: str, labels: dict[str, str], is_open: bool
) -> str:
    """The passages in a collapsible section (open when they are all the reply has)."""
    if not items:
        return ""
    blocks = "".join(_passage_block(item, labels) for item in items)
    opened = " open" if is_open else ""
    return (
        f'<details class="passages"{opened}><summary>{title} ({len(items)})</summary>'
        f"{blocks}</details>"
    )


def answer_html(answer: Answer) -> str:
    """One chat reply: the short answer, its highlighted passage and source, other passages."""
    labels = _labels(answer.language)
    if not answer.found or answer.hit is None:
        return (
            f'<div class="reply not-found"><p class="message">{_escaped(answer.message)}</p>'
            f"{_passages_section(answer.passages, labels['closest'], labels, True)}</div>"
        )
    answer_marks = [answer.span] if answer.span is not None else []
    passage = highlight(answer.hit.text, answer.sentence, answer_marks, "answer")
    others = [item for item in answer.passages if item.hit != answer.hit]
    return (
        f'<div class="reply found"><p class="short-answer"><b>{labels["answer"]}:</b> '
        f"{_escaped(answer.text)} <small>({labels['confidence']} {answer.confidence:.2f})</small>"
        f"</p>{_source(answer.hit, answer.document_span, labels)}"
        f'<blockquote class="support">{passage}</blockquote>'
        f"{_passages_section(others, labels['others'], labels, False)}</div>"
    )


def error_html(message: str) -> str:
    """A chat reply for a question the engine refused (QAError), in both languages."""
    title = f"{LABELS['vi']['error']} / {LABELS['en']['error']}"
    return f'<div class="reply error"><b>{title}:</b> {_escaped(message)}</div>'


def _span_json(span: Span | None) -> dict[str, int] | None:
    return None if span is None else {"start": span.start, "end": span.end}


def source_json(hit: Hit) -> dict[str, object]:
    """Where a passage comes from: `start`/`end` are its offsets in the document."""
    return {
        "doc_id": hit.doc_id,
        "title": hit.title,
        "date": hit.metadata.get("date"),
        "start": hit.start,
        "end": hit.end,
    }


def hit_json(hit: Hit) -> dict[str, object]:
    """A hit as plain JSON data."""
    return {
        "rank": hit.rank,
        **source_json(hit),
        "text": hit.text,
        "score": hit.fused_score,
        "dense_score": hit.dense_score,
        "lexical_score": hit.lexical_score,
    }


def answer_json(answer: Answer) -> dict[str, object]:
    """An answer as plain JSON data: spans are offsets in `passage` (and the document)."""
    return {
        "question": answer.question,
        "found": answer.found,
        "answer": answer.text,
        "message": answer.message,
        "kind": answer.kind,
        "language": answer.language,
        "confidence": answer.confidence,
        "passage": answer.hit.text if answer.hit is not None else None,
        "spans": {
            "answer": _span_json(answer.span),
            "sentence": _span_json(answer.sentence),
            "document": _span_json(answer.document_span),
        },
        "source": source_json(answer.hit) if answer.hit is not None else None,
        "passages": [
            {
                **hit_json(item.hit),
                "sentence": _span_json(item.sentence),
                "terms": [_span_json(term) for term in item.terms],
            }
            for item in answer.passages
        ],
    }
