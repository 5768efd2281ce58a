"""Search filters (documents, date range) and the one rule every store applies them by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from index.passages import Passage


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some documents and/or a date range (ISO dates, inclusive).

    A passage passes a date bound only when its document has a `date` in its metadata.
    """

    doc_ids: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None


def iso_date(value: str) -> str | None:
    """An ISO date (YYYY-MM-DD) from "2022-07-19" or "19/7/2022"; None when unparseable."""
    value = value.strip()
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    return None


def passage_date(passage: Passage) -> str | None:
    """The ISO date of a passage's document, from its `date` metadata."""
    return iso_date(passage.metadata.get("date", ""))


def passes(passage: Passage, filters: Filters) -> bool:
    """True when the passage is one the filters keep."""
    if filters.doc_ids is not None and passage.doc_id not in filters.doc_ids:
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    when = passage_date(passage)
    if when is None:
        return False
    return (filters.date_from or when) <= when <= (filters.date_to or when)
