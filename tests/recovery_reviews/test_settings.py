"""Settings come from the environment through small strict readers (docs/conventions.md 8): DEBUG off unless
DJANGO_DEBUG is set (rundemo sets it for itself), and with it on, the embedded default; with DEBUG off, `manage.py
check --deploy` reports nothing; a missing secret or a bad value stops the process at start-up with the
variable's name."""

import os
import re
import secrets
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from recovery_reviews.env import SettingError, env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_PY = ROOT / "recovery_reviews" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"

# Every variable settings.py reads, so that a test's environment is exactly what it sets.
SETTINGS_VARIABLES = sorted(
    set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', SETTINGS_PY.read_text()))
)


def django(args, tmp_path, **env):
    """Run manage.py (or python -c) in a fresh process with only `env` set among the settings variables."""
    # Leave out what other tests may have put in this process's environment (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in SETTINGS_VARIABLES and (k == "DJANGO_SETTINGS_MODULE" or not k.startswith("DJANGO_"))
    }
    environment.update(RECOVERY_REVIEWS_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def show_settings(tmp_path, *names, **env):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(*[repr(eval(n, {{'settings': settings}})) for n in {list(names)!r}], sep='\\n')"
    )
    result = django(["-c", code], tmp_path, DJANGO_SETTINGS_MODULE="recovery_reviews.settings", **env)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if not line.startswith("AXES:")]


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_the_settings_read_the_variables_this_test_file_controls():
    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= set(
        SETTINGS_VARIABLES
    )


def test_check_deploy_reports_no_issues_with_debug_off(tmp_path):
    result = django(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=random_secret_key(),
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_check_deploy_does_complain_about_a_weak_secret_key(tmp_path):
    """The check above is real: the same command notices a key too short to be secret."""
    result = django(
        ["manage.py", "check", "--deploy"],
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="too-short",
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert "security.W009" in result.stdout + result.stderr


def test_debug_is_off_when_django_debug_is_unset(tmp_path):
    """A deployment that forgets DJANGO_DEBUG shows no tracebacks: DEBUG is off, HTTPS and HSTS on."""
    debug, hsts, redirect = show_settings(
        tmp_path,
        "settings.DEBUG",
        "settings.SECURE_HSTS_SECONDS",
        "settings.SECURE_SSL_REDIRECT",
        DJANGO_SECRET_KEY=random_secret_key(),
    )
    assert (debug, hsts, redirect) == ("False", "31536000", "True")


def test_with_nothing_set_serving_asks_for_a_secret_key(tmp_path):
    """The web server (wsgi.py) and runserver refuse to start with DEBUG off and no key."""
    for args in (
        ["-c", "import recovery_reviews.wsgi"],
        ["manage.py", "runserver", "--noreload", "127.0.0.1:1"],
    ):
        result = django(args, tmp_path, DJANGO_SETTINGS_MODULE="recovery_reviews.settings")
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off." in result.stderr


def test_with_nothing_set_a_command_that_serves_nothing_runs(tmp_path):
    """check, makemigrations, migrate sign nothing that outlives them: they run with a throwaway key."""
    result = django(["manage.py", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    keys = [
        show_settings(tmp_path, "settings.SECRET_KEY", RECOVERY_REVIEWS_COMMAND="check")[0] for _ in range(2)
    ]
    assert keys[0] != keys[1] and len(keys[0]) > 50  # random each time, never a fixed one


def test_rundemo_turns_debug_on_for_itself(tmp_path):
    """With nothing set, `manage.py rundemo` starts (no secret key needed) and serves Django's debug pages."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES and not k.startswith("DJANGO_")
    }
    environment.update(RECOVERY_REVIEWS_VAR_DIR=str(tmp_path / "var"))
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--no-seed", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=5)
            except urllib.error.HTTPError as error:
                status, page = error.code, error.read().decode()
                break
            except OSError:
                assert demo.poll() is None, "rundemo stopped before it served"
                assert time.monotonic() < deadline, "rundemo did not serve within 90 seconds"
                time.sleep(0.5)
        assert status == 404
        assert "You’re seeing this error because you have <code>DEBUG = True</code>" in page
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def test_with_debug_off_and_no_secret_key_the_settings_refuse_to_serve(tmp_path):
    result = django(
        ["-c", "import recovery_reviews.wsgi"],
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SETTINGS_MODULE="recovery_reviews.settings",
    )
    assert result.returncode != 0
    assert "SettingError" in result.stderr
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "perhaps", "DJANGO_DEBUG='perhaps' is not a yes/no value"),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT='five' is not a whole number"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT=0 is below the minimum of 1"),
        ("REMINDER_SWEEP_SECONDS", "1", "REMINDER_SWEEP_SECONDS=1 is below the minimum of 10"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variable, value, message):
    result = django(["manage.py", "check"], tmp_path, **{"DJANGO_DEBUG": "1", variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_with_only_debug_set_the_product_runs_on_the_embedded_default(tmp_path):
    engine, name, debug, broker, email = show_settings(
        tmp_path,
        "settings.DATABASES['default']['ENGINE']",
        "str(settings.DATABASES['default']['NAME'])",
        "settings.DEBUG",
        "settings.CELERY_BROKER_URL",
        "settings.EMAIL_BACKEND",
        DJANGO_DEBUG="1",
    )
    assert engine == "'django.db.backends.sqlite3'"
    assert name == repr(str(tmp_path / "var" / "db.sqlite3"))
    assert debug == "True"
    assert broker == "'filesystem://'"
    assert email == "'django.core.mail.backends.filebased.EmailBackend'"
    assert (tmp_path / "var" / "broker" / "queue").is_dir()


def test_database_url_and_celery_broker_url_select_postgresql_and_redis(tmp_path):
    engine, name, host, broker = show_settings(
        tmp_path,
        "settings.DATABASES['default']['ENGINE']",
        "settings.DATABASES['default']['NAME']",
        "settings.DATABASES['default']['HOST']",
        "settings.CELERY_BROKER_URL",
        DATABASE_URL="postgres://postgres@db.example:5432/reviews",
        CELERY_BROKER_URL="redis://cache.example:6379/0",
        DJANGO_DEBUG="1",
    )
    assert engine == "'django.db.backends.postgresql'"
    assert (name, host) == ("'reviews'", "'db.example'")
    assert broker == "'redis://cache.example:6379/0'"


def test_every_variable_the_settings_read_is_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert set(SETTINGS_VARIABLES) - documented == set()


# --- The readers themselves ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_env_bool_reads_yes_and_no(monkeypatch, raw, expected):
    monkeypatch.setenv("RR_TEST_FLAG", raw)
    assert env_bool("RR_TEST_FLAG", default=not expected) is expected


@pytest.mark.parametrize("raw", ["2", "maybe", "enabled", "y e s"])
def test_env_bool_rejects_anything_else_with_the_variables_name(monkeypatch, raw):
    monkeypatch.setenv("RR_TEST_FLAG", raw)
    with pytest.raises(SettingError, match="RR_TEST_FLAG"):
        env_bool("RR_TEST_FLAG", default=True)


def test_env_bool_falls_back_to_its_default_when_unset(monkeypatch):
    monkeypatch.delenv("RR_TEST_FLAG", raising=False)
    assert env_bool("RR_TEST_FLAG", default=True) is True


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10", "3 days"])
def test_env_int_rejects_what_is_not_a_whole_number(monkeypatch, raw):
    monkeypatch.setenv("RR_TEST_NUMBER", raw)
    with pytest.raises(SettingError, match="RR_TEST_NUMBER=.* is not a whole number"):
        env_int("RR_TEST_NUMBER", 5)


def test_env_int_rejects_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv("RR_TEST_NUMBER", "-1")
    with pytest.raises(SettingError, match="below the minimum of 0"):
        env_int("RR_TEST_NUMBER", 5)


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 7 ", 7), ("", 5)])
def test_env_int_reads_whole_numbers_and_treats_empty_as_unset(monkeypatch, raw, expected):
    monkeypatch.setenv("RR_TEST_NUMBER", raw)
    assert env_int("RR_TEST_NUMBER", 5) == expected


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("RR_TEST_HOSTS", " example.org, ,www.example.org ,")
    assert env_list("RR_TEST_HOSTS", ["default"]) == ["example.org", "www.example.org"]
    monkeypatch.delenv("RR_TEST_HOSTS")
    assert env_list("RR_TEST_HOSTS", ["default"]) == ["default"]


def test_env_str_returns_the_value_or_the_default(monkeypatch):
    monkeypatch.setenv("RR_TEST_TEXT", "hello")
    assert env_str("RR_TEST_TEXT", "x") == "hello"
    monkeypatch.delenv("RR_TEST_TEXT")
    assert env_str("RR_TEST_TEXT", "x") == "x"
