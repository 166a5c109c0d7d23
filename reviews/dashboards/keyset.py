"""Keyset pagination: a page starts after (or before) the last row seen, by its sort values and primary key, so
a deep page costs what the first one does (an OFFSET would read and throw away every row before it).

The cursor is the sort values and pk, JSON in URL-safe base64. It is not a secret: a person who edits it only
moves through the same list, which the caller has already scoped to what they may see.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Sort:
    """One way to sort a list: its URL value, its label and the ordered fields (the pk breaks ties)."""

    key: str
    label: str
    fields: tuple[str, ...]
    descending: bool = False
    date_fields: tuple[str, ...] = ()

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        sign = "-" if descending else ""
        return [f"{sign}{name}" for name in (*self.fields, "pk")]

    def cursor_for(self, row) -> str:
        values = [_read(row, name) for name in self.fields]
        encoded = [v.isoformat() if isinstance(v, date) else v for v in values] + [row.pk]
        return base64.urlsafe_b64encode(json.dumps(encoded).encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list:
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as error:
            raise BadCursor("The page link is damaged.") from error
        if not isinstance(raw, list) or len(raw) != len(self.fields) + 1 or not isinstance(raw[-1], int):
            raise BadCursor("The page link does not belong to this sort order.")
        values = []
        for name, value in zip(self.fields, raw, strict=False):
            if not isinstance(value, str):
                raise BadCursor("The page link does not belong to this sort order.")
            if name in self.date_fields:
                try:
                    value = date.fromisoformat(value)
                except ValueError as error:
                    raise BadCursor("The page link does not belong to this sort order.") from error
            values.append(value)
        return [*values, raw[-1]]

    def beyond(self, values: list, *, reverse: bool = False) -> Q:
        """Rows strictly after `values` in this order (before them with reverse). The leading >= bound lets the
        database start its index scan at the cursor instead of filtering from the top."""
        names = [*self.fields, "pk"]
        op = "lt" if self.descending != reverse else "gt"
        bound = Q(**{f"{names[0]}__{op}e": values[0]})
        after = Q()
        for i, name in enumerate(names):
            step = Q(**{f"{name}__{op}": values[i]})
            for j in range(i):
                step &= Q(**{names[j]: values[j]})
            after |= step
        return bound & after


def _read(row, path: str):
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool


def keyset_page(
    queryset: QuerySet, sort: Sort, *, after: str = "", before: str = "", size: int = 50
) -> KeysetPage:
    """One page of `queryset` in `sort` order, after or before a cursor. Raises BadCursor for a damaged one."""
    if before:
        rows = list(
            queryset.filter(sort.beyond(sort.decode(before), reverse=True)).order_by(
                *sort.order_by(reverse=True)
            )[: size + 1]
        )
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows=rows,
            next_cursor=sort.cursor_for(rows[-1]) if rows else None,
            previous_cursor=sort.cursor_for(rows[0]) if rows and more_before else None,
            is_first=not more_before,
        )
    page = queryset.order_by(*sort.order_by())
    if after:
        page = page.filter(sort.beyond(sort.decode(after)))
    rows = list(page[: size + 1])
    more_after = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows=rows,
        next_cursor=sort.cursor_for(rows[-1]) if rows and more_after else None,
        previous_cursor=sort.cursor_for(rows[0]) if rows and after else None,
        is_first=not after,
    )
