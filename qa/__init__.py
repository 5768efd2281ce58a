"""Question -> hits -> answers: the public API of the Vietnamese report QA engine."""

from qa.engine import Engine
from qa.types import Filters, Hit, IndexInfo, IngestReport

__all__ = ["Engine", "Filters", "Hit", "IndexInfo", "IngestReport"]
