"""The clinical hazard log (docs/clinical-safety/hazard-log.md) stays true, so CI guards the safety case.

Every hazard has each field of the DCB0129 entry; its severities and likelihoods are on the standard's 5 x 5
matrix and each risk is the matrix's for them; a hazard that is not Open names at least one test, as a pytest
node id, and every test named still exists. A renamed or deleted test would otherwise leave a hazard with
evidence that proves nothing. The log must hold at least 20 hazards, and its printed matrix must be the one this
checker applies.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
MINIMUM_HAZARDS = 20

HAZARD = re.compile(r"^### (H-\d{3}): (.+?)\s*$")
FIELD = re.compile(r"^- \*\*(\w[\w ]*)\*\*:\s*(.*)$")
# A pytest node id: a test module under tests/, then a function, or a class and its method; a parametrized
# case's [id] is allowed and ignored when the name is resolved.
NODE_ID = re.compile(r"^(tests/[\w/]+\.py)::((?:\w+::)*\w+)(\[[^\]]*\])?$")
CODE = re.compile(r"`([^`]+)`")
MODULE = re.compile(r"\b[\w]+/[\w/]*\w\.py\b")

SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very low", "Low", "Medium", "High", "Very high")
# DCB0129/DCB0160 risk matrix: MATRIX[likelihood][severity index, Minor to Catastrophic] is the risk rating 1-5.
MATRIX = {
    "Very high": (3, 4, 4, 5, 5),
    "High": (2, 3, 3, 4, 5),
    "Medium": (2, 2, 3, 3, 4),
    "Low": (1, 2, 2, 3, 4),
    "Very low": (1, 1, 2, 2, 3),
}
STATUSES = ("Controlled", "Partly controlled", "Open")
FIELDS = (
    "Hazard",
    "Causes",
    "Effects",
    "Possible harm",
    "Initial severity",
    "Initial likelihood",
    "Initial risk",
    "Controls",
    "Evidence",
    "Residual severity",
    "Residual likelihood",
    "Residual risk",
    "Status",
)


def risk(severity: str, likelihood: str) -> int:
    return MATRIX[likelihood][SEVERITIES.index(severity)]


def leading(text: str, terms: tuple[str, ...]) -> str | None:
    """The term the field's text starts with (a reason may follow it), the longest first: "Very low" is not
    "Low"."""
    for term in sorted(terms, key=len, reverse=True):
        if re.match(rf"{re.escape(term)}(?![\w-])", text):
            return term
    return None


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    fields: dict[str, str]

    @property
    def status(self) -> str | None:
        return leading(self.fields.get("Status", ""), STATUSES)

    @property
    def named_tests(self) -> list[str]:
        """Everything in backticks in the Evidence that points into tests/."""
        return [code for code in CODE.findall(self.fields.get("Evidence", "")) if code.startswith("tests/")]


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
    """The node-id tails a test module defines: `test_x` for a function at its top level, `TestY::test_x` for a
    method of a class (nested classes too). A test elsewhere (inside a function) is not collected, so not here."""

    def walk(body: list[ast.stmt], prefix: str) -> set[str]:
        names = set()
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                names.add(prefix + node.name)
            elif isinstance(node, ast.ClassDef):
                names |= walk(node.body, f"{prefix}{node.name}::")
        return names

    return walk(ast.parse(path.read_text()).body, "")


def rating_problems(hazard: Hazard, stage: str) -> list[str]:
    """The severity, likelihood and risk of one stage (Initial or Residual) are on the matrix and agree."""
    found = []
    severity = leading(hazard.fields.get(f"{stage} severity", ""), SEVERITIES)
    likelihood = leading(hazard.fields.get(f"{stage} likelihood", ""), LIKELIHOODS)
    rating = re.match(r"([1-5])(?!\d)", hazard.fields.get(f"{stage} risk", ""))
    if hazard.fields.get(f"{stage} severity") and severity is None:
        found.append(f"{stage} severity is one of {', '.join(SEVERITIES)}")
    if hazard.fields.get(f"{stage} likelihood") and likelihood is None:
        found.append(f"{stage} likelihood is one of {', '.join(LIKELIHOODS)}")
    if hazard.fields.get(f"{stage} risk") and rating is None:
        found.append(f"{stage} risk is a rating from 1 to 5")
    if severity and likelihood and rating and int(rating[1]) != risk(severity, likelihood):
        found.append(
            f"{stage} risk {rating[1]} is not the matrix's {risk(severity, likelihood)} for {severity} x {likelihood}"
        )
    return found


def problems(hazards: list[Hazard], root: Path, minimum: int = MINIMUM_HAZARDS) -> list[str]:
    found, seen, cache = [], set(), {}
    if len(hazards) < minimum:
        found.append(f"the log holds {len(hazards)} hazards; a safety case needs at least {minimum}")
    for number, hazard in enumerate(hazards, start=1):
        where = f"{hazard.id} ({hazard.title})"
        if hazard.id in seen:
            found.append(f"{where}: the ID is used twice")
        seen.add(hazard.id)
        if hazard.id != f"H-{number:03d}":
            found.append(
                f"{where}: hazards are numbered in order and never renumbered, so this one is H-{number:03d}"
            )
        for name in FIELDS:
            if not hazard.fields.get(name, "").strip():
                found.append(f"{where}: no {name}")
        for stage in ("Initial", "Residual"):
            found += [f"{where}: {problem}" for problem in rating_problems(hazard, stage)]
        initial = re.match(r"[1-5]", hazard.fields.get("Initial risk", ""))
        residual = re.match(r"[1-5]", hazard.fields.get("Residual risk", ""))
        if initial and residual and int(residual[0]) > int(initial[0]):
            found.append(f"{where}: its residual risk {residual[0]} is above its initial risk {initial[0]}")
        status = hazard.status
        if hazard.fields.get("Status") and status is None:
            found.append(
                f"{where}: Status starts with one of {', '.join(STATUSES)}, not {hazard.fields['Status'][:30]!r}"
            )
        if status and status != "Open":
            if not hazard.named_tests:
                found.append(
                    f"{where}: it is {status} but its Evidence names no test as `tests/...py::test_name`"
                )
            if not MODULE.search(hazard.fields.get("Controls", "")):
                found.append(f"{where}: it is {status} but its Controls name no module (`reviews/....py`)")
        for node_id in hazard.named_tests:
            if not (parts := NODE_ID.match(node_id)):
                found.append(f"{where}: `{node_id}` is not a pytest node id (tests/x/test_y.py::test_z)")
                continue
            path, name = parts[1], parts[2]
            if path not in cache:
                cache[path] = defined_tests(root / path) if (root / path).is_file() else None
            if cache[path] is None:
                found.append(f"{where}: {path} does not exist")
            elif name not in cache[path]:
                found.append(f"{where}: {path} has no test {name}")
    return found


def malformed_headings(text: str) -> list[str]:
    """Headings that look like a hazard's but that read_log would not read, so the hazard would go unchecked."""
    return [line for line in text.splitlines() if re.match(r"^#+ *H-?\d", line) and not HAZARD.match(line)]


def printed_matrix(text: str) -> dict[str, tuple[int, ...]]:
    """The rows of the risk matrix as the log prints it: `| **Likelihood** | r | r | r | r | r |`."""
    rows = {}
    for line in text.splitlines():
        if row := re.match(
            r"^\| \*\*(Very low|Low|Medium|High|Very high)\*\* \|((?: *[1-5] *\|){5})\s*$", line
        ):
            rows[row[1]] = tuple(int(cell) for cell in row[2].strip(" |").split("|"))
    return rows


def test_the_hazard_log_is_complete_rated_on_the_matrix_and_names_existing_tests():
    text = LOG.read_text()
    failures = problems(read_log(text), ROOT)
    failures += [
        f"{line!r}: a hazard is headed `### H-NNN: <short name>`" for line in malformed_headings(text)
    ]
    assert not failures, "docs/clinical-safety/hazard-log.md:\n" + "\n".join(failures)


def test_the_log_prints_the_matrix_the_checker_applies():
    assert printed_matrix(LOG.read_text()) == MATRIX


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
- **Effects**: the page shows the wrong thing.
- **Possible harm**: harm.
- **Initial severity**: Major
- **Initial likelihood**: Medium
- **Initial risk**: 3
- **Controls**: rule 1, `reviews/scheduling.py`.
- **Evidence**:
  - `tests/test_x.py::test_one`
  - `tests/test_x.py::TestY::test_two`
  - `tests/test_x.py::test_three[a case-2]`
- **Residual severity**: Major: a death.
- **Residual likelihood**: Very low
- **Residual risk**: 2
- **Status**: Controlled.
"""

TEST_MODULE = """
import pytest

def test_one(): pass

class TestY:
    def test_two(self): pass

@pytest.mark.parametrize("n", [1, 2])
def test_three(n): pass

def helper():
    def test_inner(): pass
"""


@pytest.fixture
def root(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(TEST_MODULE)
    return tmp_path


def test_the_checker_reads_fields_over_several_lines_and_accepts_a_good_entry(root):
    (hazard,) = read_log(GOOD)
    assert hazard.named_tests == [
        "tests/test_x.py::test_one",
        "tests/test_x.py::TestY::test_two",
        "tests/test_x.py::test_three[a case-2]",
    ]
    assert hazard.status == "Controlled"
    assert problems([hazard], root, minimum=1) == []


def test_an_open_hazard_may_name_no_test_and_a_planned_control():
    open_hazard = GOOD.replace(
        "- **Evidence**:\n  - `tests/test_x.py::test_one`\n  - `tests/test_x.py::TestY::test_two`\n"
        "  - `tests/test_x.py::test_three[a case-2]`\n",
        "- **Evidence**: none yet.\n",
    )
    open_hazard = open_hazard.replace("rule 1, `reviews/scheduling.py`", "planned: a check before saving")
    open_hazard = open_hazard.replace("Controlled.", "Open: the control is planned.")
    open_hazard = open_hazard.replace("Very low\n- **Residual risk**: 2", "Medium\n- **Residual risk**: 3")
    assert problems(read_log(open_hazard), Path("/nonexistent"), minimum=1) == []


def test_the_matrix_is_the_standards():
    assert risk("Catastrophic", "Very high") == 5
    assert risk("Minor", "Very low") == 1
    assert risk("Major", "Medium") == 3
    assert risk("Catastrophic", "Low") == 4
    assert risk("Minor", "Very high") == 3
    assert [risk(s, "Medium") for s in SEVERITIES] == [2, 2, 3, 3, 4]


BROKEN = [
    (("`tests/test_x.py::test_one`", "`tests/test_x.py::test_gone`"), "has no test test_gone"),
    (("TestY::test_two", "TestZ::test_two"), "has no test TestZ::test_two"),
    (("TestY::test_two", "test_two"), "has no test test_two"),
    (("test_three[a case-2]", "test_inner"), "has no test test_inner"),
    (("tests/test_x.py::test_one", "tests/test_z.py::test_one"), "tests/test_z.py does not exist"),
    (("tests/test_x.py::test_one", "tests/test_x.py:test_one"), "is not a pytest node id"),
    (("- **Effects**: the page shows the wrong thing.\n", ""), "no Effects"),
    (("- **Residual likelihood**: Very low\n", ""), "no Residual likelihood"),
    (("- **Controls**: rule 1, `reviews/scheduling.py`.\n", ""), "no Controls"),
    (("rule 1, `reviews/scheduling.py`", "good intentions"), "its Controls name no module"),
    (("Initial severity**: Major", "Initial severity**: Severe"), "Initial severity is one of"),
    (("Initial likelihood**: Medium", "Initial likelihood**: Likely"), "Initial likelihood is one of"),
    (("Initial risk**: 3", "Initial risk**: 6"), "Initial risk is a rating from 1 to 5"),
    (("Initial risk**: 3", "Initial risk**: 4"), "Initial risk 4 is not the matrix's 3 for Major x Medium"),
    (
        ("Residual risk**: 2", "Residual risk**: 1"),
        "Residual risk 1 is not the matrix's 2 for Major x Very low",
    ),
    (
        ("Residual likelihood**: Very low", "Residual likelihood**: Low"),
        "Residual risk 2 is not the matrix's 3",
    ),
    (
        (
            "Initial likelihood**: Medium\n- **Initial risk**: 3",
            "Initial likelihood**: Very low\n- **Initial risk**: 2",
        ),
        "",
    ),
    (
        (
            "Residual likelihood**: Very low\n- **Residual risk**: 2",
            "Residual likelihood**: High\n- **Residual risk**: 4",
        ),
        "its residual risk 4 is above its initial risk 3",
    ),
    (
        (
            "- **Evidence**:\n  - `tests/test_x.py::test_one`\n  - `tests/test_x.py::TestY::test_two`\n"
            "  - `tests/test_x.py::test_three[a case-2]`\n",
            "- **Evidence**: TBC\n",
        ),
        "it is Controlled but its Evidence names no test",
    ),
    (("Controlled.", "Fine."), "Status starts with one of"),
    (("H-001", "H-002"), "so this one is H-001"),
]


@pytest.mark.parametrize(("change", "message"), BROKEN)
def test_the_checker_catches_a_broken_entry(root, change, message):
    assert change[0] in GOOD, change[0]
    found = problems(read_log(GOOD.replace(*change)), root, minimum=1)
    if message:
        assert any(message in problem for problem in found), found
    else:
        assert found == [], found


def test_the_checker_catches_a_partly_controlled_hazard_with_no_test(root):
    entry = GOOD.replace("Controlled.", "Partly controlled: the pages are not built.").replace(
        "- **Evidence**:\n  - `tests/test_x.py::test_one`\n  - `tests/test_x.py::TestY::test_two`\n"
        "  - `tests/test_x.py::test_three[a case-2]`\n",
        "- **Evidence**: none yet.\n",
    )
    found = problems(read_log(entry), root, minimum=1)
    assert any("it is Partly controlled but its Evidence names no test" in p for p in found), found


def test_the_checker_catches_a_repeated_id_and_too_few_hazards(root):
    twice = read_log(GOOD) * 2
    found = problems(twice, root, minimum=3)
    assert any("the log holds 2 hazards; a safety case needs at least 3" in p for p in found), found
    assert any("the ID is used twice" in p for p in found), found


def test_the_checker_finds_a_hazard_heading_it_would_not_read():
    assert malformed_headings(GOOD) == []
    assert malformed_headings("## H-001: two hashes\n### H-41: short\n### H-0041: long\n") == [
        "## H-001: two hashes",
        "### H-41: short",
        "### H-0041: long",
    ]


def test_the_checker_reads_the_printed_matrix():
    assert printed_matrix(LOG.read_text()).keys() == MATRIX.keys()
    assert printed_matrix("| **Low** | 1 | 2 | 2 | 3 | 4 |\n") == {"Low": (1, 2, 2, 3, 4)}
