"""CSV that a spreadsheet opens as data, never as a formula (docs/design.md, Access and audit).

A cell that begins with = + - @, a tab or a carriage return is run by Excel, LibreOffice and Google Sheets as a
formula: a family name such as ``=HYPERLINK("http://evil.example","x")`` would become a live link in a manager's
export. As OWASP's "CSV Injection" page advises, such a cell gets a leading single quote, which the spreadsheet
shows as text; the csv module quotes it where it holds a separator or a quote. Numbers, dates and None are not
text a person typed, so they are written as they are (a count of -1 stays a number).

Every CSV export writes through ``csv_writer``, a drop-in for ``csv.writer``.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """The cell as written: text that a spreadsheet would run gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


class SafeCsvWriter:
    """csv.writer's writerow and writerows, with every cell neutralised first."""

    def __init__(self, target, **options):
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([neutralised(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(target, **options) -> SafeCsvWriter:
    """Like csv.writer(target, **options); returns what writerow returns, so it streams through an echo."""
    return SafeCsvWriter(target, **options)


class _Echo:
    """A file that hands back what is written to it, so that writerow returns the line to stream."""

    def write(self, value):
        return value


def streaming_csv_writer(**options) -> SafeCsvWriter:
    """A csv_writer whose writerow returns the line, for a StreamingHttpResponse's generator."""
    return SafeCsvWriter(_Echo(), **options)
