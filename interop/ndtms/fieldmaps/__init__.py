"""The NDTMS return's field maps, kept as data (docs/design.md, Interoperability): one module per data set letter.

A map says, per entity of the NDTMS record (client and episode, discharge, intervention, sub-intervention review,
TOP), which columns the file carries and in what order, where each value comes from in our record, whether the
record cannot be sent without it, which code map its value goes through, and on what evidence the column's name
stands: "K" or "H" when the column is in that older data set's column list (dataset_k.py, dataset_h.py), "P" when
a P document names it, "unconfirmed" otherwise. Code maps say the same of every code. What is known of the
format is in ../shared/reference/ndtms-facts.md, cited below by its source tags ([C2], [S3], ...).

A service corrects or extends a map here (a code found in the NDTMS reference data, a column renamed) without
touching the exporter, which only reads the map: interop/ndtms/export.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

CONFIRMATIONS = ("P", "K", "H", "unconfirmed")


@dataclass(frozen=True)
class Field:
    """One column of the file.

    source: a dotted path into the row's record ("patient.date_of_birth", "top.assessed_on"), a function of the
    row (interop/ndtms/export.py Row), or None when our record does not hold the item (the column is written
    empty). codes: the name of the code map the value goes through; a value with no code there stops the record.
    required_with: the column is mandatory whenever that other column has a value (DISRSN with DISD)."""

    name: str
    source: str | Callable[[Any], Any] | None
    meaning: str
    confirmed: str = "unconfirmed"
    mandatory: bool = False
    required_with: str = ""
    codes: str = ""
    note: str = ""

    @property
    def held(self) -> bool:
        """Our record holds the item (a column with no source is written empty)."""
        return self.source is not None

    def __post_init__(self):
        for letter in self.confirmed.split(","):
            if letter not in CONFIRMATIONS:
                raise ValueError(
                    f"{self.name}: confirmed must be one of {CONFIRMATIONS}, not {self.confirmed!r}"
                )


@dataclass(frozen=True)
class Code:
    """An NDTMS code for one of our values. value None: no code is known yet, so a record that needs it stops
    with that reason (never a guess)."""

    value: Any
    confirmed: str = "unconfirmed"
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """A check on the whole record that no single column holds (the adult data set's age)."""

    name: str
    check: Callable[[Any], str]  # returns the problem, or "" when the record passes
    confirmed: str = "unconfirmed"
    note: str = ""


@dataclass(frozen=True)
class FieldMap:
    dataset: str
    entities: Mapping[str, tuple[Field, ...]]  # in the file's column order
    codes: Mapping[str, Mapping[Any, Code]]
    without_consent: tuple[str, ...]  # the only columns that keep their values without consent
    rules: tuple[Rule, ...] = ()
    date_format: str = "%d/%m/%Y"
    missing: str = ""
    file_name: str = "{agency}-{start:%Y%m%d}-{end:%Y%m%d}-TREAT-IN-{dataset}.csv"
    notes: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return [f.name for fields in self.entities.values() for f in fields]

    def entity_of(self, column: str) -> str:
        return next(
            entity for entity, fields in self.entities.items() if any(f.name == column for f in fields)
        )

    def with_field(self, entity: str, column: str, /, **changes) -> FieldMap:
        """A copy of the map with one field changed (how a service's correction, or a test, is made)."""
        if not any(f.name == column for f in self.entities[entity]):
            raise KeyError(f"{entity} has no field {column}")
        fields = tuple(replace(f, **changes) if f.name == column else f for f in self.entities[entity])
        return replace(self, entities={**self.entities, entity: fields})

    def with_code(self, codes: str, key, code: Code) -> FieldMap:
        return replace(self, codes={**self.codes, codes: {**self.codes[codes], key: code}})


def field_map(dataset: str) -> FieldMap:
    """The map for a data set letter (only P is written)."""
    if dataset != "P":
        raise LookupError(f"No field map for NDTMS data set {dataset}: only P is written.")
    from interop.ndtms.fieldmaps.dataset_p import FIELD_MAP

    return FIELD_MAP
