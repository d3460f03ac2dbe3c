# SPDX-License-Identifier: AGPL-3.0-or-later
"""Parameters shared by several operations: headers, path and query text, paging.

Text that reaches the database from a path or a query string refuses control characters with a
422 in the API's error shape (``core.text``): PostgreSQL cannot even compare a NUL byte, so a
``/customers/C1%00`` would otherwise be a 500 there and a 404 on SQLite.
"""

from typing import Annotated

from ninja import Field, Header, Path, Schema
from ninja.pagination import PageNumberPagination

from .idempotency import HEADER
from .schemas import Text

IdempotencyKey = Annotated[
    Text,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        description=(
            "Unique per logical operation (e.g. a UUID). A retry with the same key and body "
            "replays the first response; with another body it is refused (422). Kept ≥ 24 h."
        ),
    ),
]

#: A customer or invoice number in a path ("C1000014", "FA2026-000001").
Number = Annotated[Text, Path()]
#: Free text in a query string (a search, a customer number filter).
QueryText = Annotated[Text, Field(max_length=200)]

#: The last page a client may ask for: 200 items a page reach 200 million rows, far beyond any
#: list here, and a bounded offset never overflows the database's 64-bit integers.
MAX_PAGE = 1_000_000


class Pages(PageNumberPagination):
    """ninja's page-number paging with bounded numbers: ``page=10**20`` is a 422, not a 500."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE)
