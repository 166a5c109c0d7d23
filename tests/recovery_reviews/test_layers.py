"""The one-way layers (docs/conventions.md 12; docs/design.md, Layers) are a contract in pyproject.toml that
import-linter checks. These tests run it, show that it would catch an import against the layers, and check that
every module of recovery_reviews is placed in a layer, so that a new module cannot slip past the contract."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("recovery_reviews", "patients", "careplans", "reviews")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (layers,) = config["tool"]["importlinter"]["contracts"]
    return layers


def test_the_code_keeps_the_layers_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_import_against_the_layers_breaks_the_contract(tmp_path):
    """A copy of the code in which the clinical record imports the review app: lint-imports names the import."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    validators = tmp_path / "patients" / "validators.py"
    validators.write_text(validators.read_text() + "\nfrom reviews.models import StrategicReview  # noqa\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "patients is not allowed to import reviews" in result.stdout
    assert "patients.validators -> reviews.models" in result.stdout


def test_every_module_of_the_project_package_is_placed_in_a_layer():
    """recovery_reviews holds both the organisation core (the lowest layer) and the top (URLs, composite pages,
    commands), so its modules are named one by one in the contract: a new one must be placed."""
    placed = set()
    for layer in contract()["layers"]:
        for name in layer.replace("|", ":").split(":"):
            name = name.strip()
            if name.startswith("recovery_reviews."):
                placed.add(name.removeprefix("recovery_reviews."))
    children = {
        path.stem if path.is_file() else path.name
        for path in (ROOT / "recovery_reviews").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert children - placed == set(), "place these modules in a layer of the contract in pyproject.toml"
    assert placed - children == set(), "the contract names modules that do not exist"


def test_every_exception_to_the_layers_says_why():
    """Each ignored import is preceded by a comment giving its reason (docs/conventions.md 12)."""
    text = (ROOT / "pyproject.toml").read_text()
    ignored = contract()["ignore_imports"]
    assert ignored, "the contract names its exceptions"
    lines = text.splitlines()
    for entry in ignored:
        (index,) = [i for i, line in enumerate(lines) if line.strip().startswith(f'"{entry}"')]
        assert lines[index - 1].strip().startswith("#"), f"say why {entry} is allowed, in a comment above it"


def test_no_module_outside_migrations_and_tests_passes_600_lines():
    """A module past 600 lines is asking to be split by concern (docs/conventions.md 11)."""
    too_long = {
        str(path.relative_to(ROOT)): length
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (length := len(path.read_text().splitlines())) > 600
    }
    assert too_long == {}, "split these by topic"
