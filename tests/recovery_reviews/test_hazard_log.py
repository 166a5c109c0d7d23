"""The clinical hazard log (docs/clinical-safety/hazard-log.md) stays true: every hazard names its controls and the tests
that show they work, and every test it names exists. A renamed or deleted test would otherwise leave a hazard
with evidence that proves nothing."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"

HAZARD = re.compile(r"^### (H-\d{3}): (.+?)\s*$")
FIELD = re.compile(r"^- \*\*(\w[\w ]*)\*\*:\s*(.*)$")
TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
FIELDS = ("Hazard", "Causes", "Possible harm", "Controls", "Evidence", "Status")
STATUSES = ("Controlled", "Partly controlled", "Open")


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    fields: dict[str, str]

    @property
    def tests(self) -> list[tuple[str, str]]:
        return TEST.findall(self.fields.get("Evidence", ""))


def read_log(text: str) -> list[Hazard]:
    """Each `### H-NNN: title` section with its `- **Field**: text` entries; a field's text runs on over the
    indented lines and sub-items below it."""
    hazards, current, field = [], None, None
    for line in text.splitlines():
        if heading := HAZARD.match(line):
            current, field = Hazard(heading[1], heading[2], {}), None
            hazards.append(current)
        elif line.startswith("#"):
            current = field = None
        elif current is not None and (entry := FIELD.match(line)):
            field = entry[1]
            current.fields[field] = entry[2]
        elif current is not None and field is not None and line.startswith(" "):
            current.fields[field] += " " + line.strip()
    return hazards


def defined_tests(path: Path) -> set[str]:
    """The names of the test functions in a test module, at its top level or in its classes."""
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def problems(hazards: list[Hazard], root: Path) -> list[str]:
    found, seen, cache = [], set(), {}
    for number, hazard in enumerate(hazards, start=1):
        where = f"{hazard.id} ({hazard.title})"
        if hazard.id in seen:
            found.append(f"{where}: the ID is used twice")
        seen.add(hazard.id)
        if hazard.id != f"H-{number:03d}":
            found.append(f"{where}: hazards are numbered in order, so this one is H-{number:03d}")
        for name in FIELDS:
            if not hazard.fields.get(name, "").strip():
                found.append(f"{where}: no {name}")
        if hazard.fields.get("Controls", "").strip() and "reviews/" not in hazard.fields["Controls"]:
            found.append(f"{where}: its Controls name no module")
        status = hazard.fields.get("Status", "")
        if status and not status.startswith(STATUSES):
            found.append(f"{where}: Status starts with one of {', '.join(STATUSES)}, not {status[:30]!r}")
        if not hazard.tests:
            found.append(f"{where}: its Evidence names no test as `tests/...py::test_name`")
        for path, name in hazard.tests:
            if path not in cache:
                cache[path] = defined_tests(root / path) if (root / path).is_file() else None
            if cache[path] is None:
                found.append(f"{where}: {path} does not exist")
            elif name not in cache[path]:
                found.append(f"{where}: {path} has no test {name}")
    return found


def test_the_hazard_log_names_a_control_and_existing_tests_for_every_hazard():
    hazards = read_log(LOG.read_text())
    assert hazards, "the hazard log lists no hazards"
    failures = problems(hazards, ROOT)
    assert not failures, "docs/clinical-safety/hazard-log.md:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    "rule", ["rule 1", "rule 2", "rule 3", "rule 4", "rule 5", "rule 6", "rule 7", "rule 8"]
)
def test_every_rule_of_the_first_edition_has_a_hazard(rule):
    controls = [h.fields.get("Controls", "") for h in read_log(LOG.read_text())]
    assert any(re.search(rf"\b{rule}\b(?! \(amended\))", c) for c in controls), rule


@pytest.mark.parametrize("rule", ["rule 3b", "rule 4b", "rule 7 (amended)", "rule 7b", "rule 7c"])
def test_every_rule_of_the_second_edition_has_a_hazard(rule):
    controls = [h.fields.get("Controls", "") for h in read_log(LOG.read_text())]
    assert any(rule in c for c in controls), rule


# --- The checker itself ---------------------------------------------------------------------------------------

GOOD = """# Log
### H-001: A hazard
- **Hazard**: it goes wrong.
- **Causes**: a cause.
- **Possible harm**: harm.
- **Controls**: rule 1, `reviews/scheduling.py`.
- **Evidence**:
  - `tests/test_x.py::test_one`
  - `tests/test_x.py::test_two`
- **Status**: Controlled.
"""


def test_the_checker_reads_fields_over_several_lines_and_accepts_a_good_entry(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_one(): pass\nclass TestY:\n    def test_two(self): pass\n"
    )
    (hazard,) = read_log(GOOD)
    assert hazard.tests == [("tests/test_x.py", "test_one"), ("tests/test_x.py", "test_two")]
    assert problems([hazard], tmp_path) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("test_two`", "test_three`"), "has no test test_three"),
        (("tests/test_x.py::test_one", "tests/test_z.py::test_one"), "tests/test_z.py does not exist"),
        (("- **Controls**: rule 1, `reviews/scheduling.py`.\n", ""), "no Controls"),
        (("rule 1, `reviews/scheduling.py`", "good intentions"), "its Controls name no module"),
        (
            (
                "- **Evidence**:\n  - `tests/test_x.py::test_one`\n  - `tests/test_x.py::test_two`\n",
                "- **Evidence**: TBC\n",
            ),
            "names no test",
        ),
        (("Controlled.", "Fine."), "Status starts with one of"),
        (("H-001", "H-002"), "so this one is H-001"),
    ],
)
def test_the_checker_finds_a_missing_test_control_or_malformed_entry(tmp_path, change, message):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_one(): pass\ndef test_two(): pass\n")
    found = problems(read_log(GOOD.replace(*change)), tmp_path)
    assert any(message in problem for problem in found), found
