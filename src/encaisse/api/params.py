# SPDX-License-Identifier: AGPL-3.0-or-later
"""Parameters shared by several operations."""

from typing import Annotated

from ninja import Header

from .idempotency import HEADER

IdempotencyKey = Annotated[
    str,
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
