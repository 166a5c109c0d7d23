"""Citations of the documents in docs/ stay true (docs/conventions.md 14).

Code and documents cite docs/design.md and docs/conventions.md by heading, rule and item (docs/README.md lists the
forms). These tests read every file git knows of (tracked, or new and not ignored) and fail, naming file:line, on
a citation of a document outside the repository or of a document, heading, rule or item that does not exist, and on
an issue number in a docstring or comment. A citation that names nothing sends the reader to the wrong place.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# This file holds bad citations on purpose, in the checker's self-test.
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SUFFIXES = {".py", ".html", ".txt", ".toml", ".md", ".yml"}
NAMED_FILES = {"Makefile", ".ci/run"}

OLD = re.compile(r"\b(DESIGN|CONVENTIONS)\.md\b")  # the documents before they moved into docs/
CITATION = re.compile(r"(?<![\w/.-])docs/((?:[\w-]+/)*[\w-]+\.md)\b")
HEADED = re.compile(r', "?([A-Z].*)')  # ", Heading" after a citation; lowercase after the comma is prose
ISSUE = re.compile(r"\b[Ii]ssues? \d+\b")
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
ENTRY = re.compile(r"^(\d+[a-z]?)\. \*\*")  # "4. **Deteriorating adherence**", "3b. **Transitions**"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")

# The documents whose numbered entries are cited by number: the section holding them, how a citation names
# one (after "docs/<file>.md"), and what an entry is called.
NUMBERED = {
    "design.md": ("Review scheduling policy", re.compile(r",? rules? (\d+[a-z]?)\b"), "rule"),
    "conventions.md": ("How code is written", re.compile(r" (\d+)\b"), "item"),
}


@dataclass(frozen=True)
class Doc:
    headings: tuple[str, ...]
    numbered: tuple[str, ...] = ()  # the rules or items a citation may name by number


def read_doc(name: str, text: str) -> Doc:
    section = NUMBERED.get(name, (None,))[0]
    headings, numbered, current, fenced = [], [], None, False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := HEADING.match(line)):
            headings.append(heading[2])
            if len(heading[1]) <= 2:
                current = heading[2]
        elif not fenced and current == section and (entry := ENTRY.match(line)):
            numbered.append(entry[1])
    return Doc(tuple(headings), tuple(numbered))


def read_docs() -> dict[str, Doc]:
    return {
        p.relative_to(DOCS).as_posix(): read_doc(p.name, p.read_text()) for p in sorted(DOCS.rglob("*.md"))
    }


def _starts_with(text: str, heading: str) -> bool:
    return text.startswith(heading) and not text[len(heading) : len(heading) + 1].isalnum()


def citation_errors(line: str, docs: dict[str, Doc]) -> list[str]:
    """What is wrong with the citations on one line, each with how to cite correctly."""
    errors = [
        f"cites {old[0]}, which is not in the repository: cite docs/{old[1].lower()}.md instead"
        for old in OLD.finditer(line)
    ]
    for citation in CITATION.finditer(line):
        name, rest = citation[1], line[citation.end() :]
        doc = docs.get(name)
        if doc is None:
            known = ", ".join(f"docs/{n}" for n in docs)
            errors.append(f"cites docs/{name}, which does not exist: cite one of {known}")
            continue
        if name in NUMBERED and (number := NUMBERED[name][1].match(rest)):
            section, _, entry = NUMBERED[name]
            if number[1] not in doc.numbered:
                errors.append(
                    f"cites docs/{name} {entry} {number[1]}, which is not a numbered {entry} of its section "
                    f'"{section}" ({", ".join(doc.numbered)}): cite the {entry} by its number there'
                )
        elif (headed := HEADED.match(rest)) and not any(_starts_with(headed[1], h) for h in doc.headings):
            errors.append(
                f'cites docs/{name}, "{headed[1][:40]}", which does not start with a heading of docs/{name}: '
                f"cite a heading as written ({'; '.join(doc.headings)})"
            )
    return errors


def _issue_checked(name: str) -> bool:
    """Python outside migrations, and templates: there a line naming an issue is a docstring, comment or text."""
    return (name.endswith(".py") and "/migrations/" not in f"/{name}") or name.startswith("templates/")


def checked_files() -> list[str]:
    git = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    return [
        name
        for name in sorted(set(listed))
        if (Path(name).suffix in SUFFIXES or name in NAMED_FILES) and name != THIS and (ROOT / name).is_file()
    ]


def test_every_citation_names_a_document_heading_rule_or_item_that_exists():
    docs = read_docs()
    failures = []
    for name in checked_files():
        for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), start=1):
            failures += [f"{name}:{number}: {error}" for error in citation_errors(line, docs)]
    assert not failures, "Citations that name nothing (docs/README.md lists the forms):\n" + "\n".join(
        failures
    )


def test_no_docstring_or_comment_cites_an_issue_number():
    failures = []
    for name in filter(_issue_checked, checked_files()):
        for number, line in enumerate((ROOT / name).read_text(errors="replace").splitlines(), start=1):
            failures += [
                f'{name}:{number}: cites "{issue[0]}", which means nothing without the tracker: say the reason, '
                "and cite docs/<file>.md or the guidance's paragraph (§2.4)"
                for issue in ISSUE.finditer(line)
            ]
    assert not failures, "Issue numbers in docstrings and comments:\n" + "\n".join(failures)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_every_link_between_the_documents_resolves():
    docs, failures = read_docs(), []
    for path in sorted(DOCS.rglob("*.md")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for link in LINK.finditer(line):
                target, _, anchor = link[1].partition("#")
                if re.match(r"[a-z]+:", target):
                    continue  # http:, mailto: and the like
                resolved = (path.parent / target).resolve() if target else path
                where = f"{path.relative_to(ROOT)}:{number}: links to {link[1]}"
                if not resolved.exists():
                    failures.append(f"{where}, which does not exist")
                elif anchor and resolved.suffix == ".md" and resolved.is_relative_to(DOCS):
                    doc = docs[resolved.relative_to(DOCS).as_posix()]
                    if anchor not in {_slug(h) for h in doc.headings}:
                        failures.append(f"{where}: no heading of {resolved.name} has that anchor")
    assert not failures, "Broken links in docs/:\n" + "\n".join(failures)


# --- The checker itself --------------------------------------------------------------------------------------

FAKE_DOCS = {
    "design.md": Doc(("Domain", "Access and audit", "Review scheduling policy"), ("1", "4", "8")),
    "conventions.md": Doc(("How code is written",), ("3", "14")),
}
ACCEPTED = [
    "Scope (docs/design.md, Access and audit): keyworkers see their own caseload",
    'The review scheduling policy (docs/design.md, "Review scheduling policy"), as pure Python.',
    "Review status in SQL (docs/design.md rule 8), from the stored columns",
    "(App. C 1; docs/design.md, rule 4)",
    "Every write of the clinical record (docs/conventions.md 3).",
    "as docs/design.md, and the README, say",  # prose after the comma
    "see docs/design.md and docs/conventions.md",
]
REJECTED = [
    ("Scope (DESIGN.md, Access and audit)", "cite docs/design.md instead"),
    ("Every write (CONVENTIONS.md 3)", "cite docs/conventions.md instead"),
    ("see docs/desing.md", "does not exist"),
    ("the transitions (docs/design.md rule 3b)", "not a numbered rule"),
    ("docs/design.md, Domains", "does not start with a heading"),
    ("docs/design.md, Scheduling policy", "does not start with a heading"),
    ("thin tasks (docs/conventions.md 15)", "not a numbered item"),
]


def test_the_checker_accepts_good_citations_and_rejects_bad_ones():
    for line in ACCEPTED:
        assert citation_errors(line, FAKE_DOCS) == [], line
    for line, message in REJECTED:
        errors = citation_errors(line, FAKE_DOCS)
        assert len(errors) == 1 and message in errors[0], (line, errors)
    assert [m[0] for m in ISSUE.finditer("Benchmark (issue 6); issues 2 and 3")] == ["issue 6", "issues 2"]
    assert not ISSUE.search("reports no issues; tissue 3")


def test_the_checker_reads_rules_items_and_headings_outside_code():
    text = "# T\n## Review scheduling policy\n1. **A** x\n3b. **B** y\n```\n# not a heading\n```\n## Next\n9. **C**\n"
    assert read_doc("design.md", text) == Doc(("T", "Review scheduling policy", "Next"), ("1", "3b"))
    assert _slug("How code is written") == "how-code-is-written"
