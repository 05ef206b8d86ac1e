"""What handlers read from a request: the app's services, and every bounded number parameter,
declared once.

Each `IntParam` is read by its handler and described by web/openapi.py from the same
declaration, so a limit cannot say one thing in the code and another in the API document. An
empty value (`?limit=`, as forms send untouched fields) means "not given" everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from paperfeed import catalog
from paperfeed.errors import InvalidInput
from paperfeed.search.service import MAX_LIMIT as SEARCH_MAX_LIMIT
from paperfeed.trending.service import MAX_LIMIT as TRENDING_MAX_LIMIT

if TYPE_CHECKING:
    from paperfeed.services import Services


def services(request: Request) -> Services:
    return request.app.state.services


@dataclass(frozen=True)
class IntParam:
    name: str
    default: int
    low: int
    high: int
    help: str

    def read(self, request: Request, default: int | None = None) -> int:
        """The value sent, checked; `default` overrides the declared one (a feed's size)."""
        raw = request.query_params.get(self.name)
        if raw is None or raw == "":
            return self.default if default is None else default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{self.name} must be a whole number") from None
        if not self.low <= value <= self.high:
            raise InvalidInput(f"{self.name} must be between {self.low} and {self.high}")
        return value

    def schema(self) -> dict:
        """Its JSON Schema, for the OpenAPI document."""
        return {
            "type": "integer",
            "minimum": self.low,
            "maximum": self.high,
            "default": self.default,
        }


TRENDING_LIMIT = IntParam("limit", 30, 1, TRENDING_MAX_LIMIT, "How many papers.")
NEW_PAGE = IntParam("page", 1, 1, 10_000, "Page, from 1.")
SEARCH_LIMIT = IntParam("limit", 20, 1, SEARCH_MAX_LIMIT, "Results per page.")
SEARCH_PAGE = IntParam(
    "page", 1, 1, 500, "Page, from 1; (page - 1) x limit is at most 10,000 (400)."
)
SIMILAR_LIMIT = IntParam("limit", 10, 1, SEARCH_MAX_LIMIT, "How many papers.")
PAPERS_LIMIT = IntParam("limit", 20, 1, catalog.MAX_PAGE_SIZE, "Papers per page.")
PAPERS_OFFSET = IntParam("offset", 0, 0, 10_000_000, "How many to skip.")
HF_LIMIT = IntParam("limit", 50, 1, 100, "Entries per page.")
HF_PAGE = IntParam("p", 0, 0, 1_000, "Page, from 0.")
