"""The README's two commands are the product's promise (docs/design.md, How it runs): CI must run exactly the test command, and the
run command must end in rundemo. These tests keep README.md, .ci/run and the demo logins from drifting apart."""

import re
from pathlib import Path

from recovery_reviews.management.commands.rundemo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CI_RUN = (ROOT / ".ci" / "run").read_text()


def first_command_under(heading: str) -> str:
    section = README.split(f"## {heading}\n", 1)[1]
    match = re.search(r"```sh\n(.+?)\n```", section, flags=re.DOTALL)
    assert match, f"no ```sh block under ## {heading}"
    return match.group(1).strip()


def test_the_run_command_installs_from_a_fresh_clone_and_starts_rundemo():
    command = first_command_under("Run it")
    assert "\n" not in command
    assert command.startswith('python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]" && ')
    assert command.endswith(".venv/bin/python manage.py rundemo")


def test_the_test_command_installs_from_a_fresh_clone_and_runs_pytest():
    command = first_command_under("Test it")
    assert "\n" not in command
    assert command.startswith("python3 -m venv .venv && ")
    assert command.endswith(".venv/bin/python -m pytest")


def test_ci_runs_exactly_the_readmes_test_command():
    command = first_command_under("Test it")
    ci_lines = [line.strip() for line in CI_RUN.splitlines() if not line.lstrip().startswith("#")]
    assert any(f"({command})" in line for line in ci_lines), command


def test_ci_runs_on_the_postgresql_and_redis_the_readme_names():
    test_section = README.split("## Test it\n", 1)[1].split("\n## ", 1)[0]
    for variable in ("DATABASE_URL", "CELERY_BROKER_URL"):
        [readme_value] = re.findall(rf"export {variable}=(\S+)", test_section)
        assert f"export {variable}={readme_value}\n" in CI_RUN


def test_the_readme_gives_the_demo_password_and_every_role_a_login():
    assert f"`{DEMO_PASSWORD}`" in README
    for login in (
        "kw.north",
        "sp.north",
        "mgr.north",
        "mgr.all",
        "kw.south",
        "sp.south",
        "kw.east",
        "sp.east",
    ):
        assert f"`{login}`" in README
