"""The shared base: one team with a keyworker (alice), a senior practitioner (sam) and a manager (mona), and an
outsider (olga) who is a keyworker in another team (healthchecks' hc/test.py does the same with alice/bob).

Tests that need PostgreSQL, Redis or a browser are marked; outside CI they skip with the reason, and with
CI=true they run or fail (never skip silently).
"""

import os

import pytest
from django.db import connection

from recovery_reviews.models import Role
from tests.support.clock import frozen_today  # noqa: F401  (the one frozen clock, for every test module)
from tests.support.factories import EpisodeFactory, PatientFactory, TeamFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    if IN_CI:
        return
    reasons = {}
    if connection.vendor != "postgresql":
        reasons["postgres"] = "needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        reasons["redis"] = "needs Redis: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 (CI does)"
    if not os.path.exists("/usr/bin/chromium"):
        reasons["browser"] = "needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"
    for item in items:
        for marker, reason in reasons.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash passwords with MD5 in tests: the production hasher spends half a second on every user a factory
    makes, which is its point in production and only a cost here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def compiled_queries_checked(settings):
    """Every compiled query a test reaches is compiled again by the ORM and held equal to it
    (recovery_reviews/compiled_queries.py)."""
    settings.COMPILED_QUERIES_CHECK = True


@pytest.fixture
def team(db):
    return TeamFactory(name="North")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South")


@pytest.fixture
def alice(team):
    """A keyworker in North."""
    return UserFactory(
        username="alice", first_name="Alice", last_name="Keyworker", role=Role.KEYWORKER, team=team
    )


@pytest.fixture
def sam(team):
    """A senior practitioner in North."""
    return UserFactory(
        username="sam", first_name="Sam", last_name="Senior", role=Role.SENIOR_PRACTITIONER, team=team
    )


@pytest.fixture
def mona(team):
    """North's manager."""
    user = UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER, team=None)
    user.managed_teams.add(team)
    return user


@pytest.fixture
def olga(other_team):
    """A keyworker in South: an outsider to North's records."""
    return UserFactory(
        username="olga", first_name="Olga", last_name="Outsider", role=Role.KEYWORKER, team=other_team
    )


@pytest.fixture
def patient(team, alice):
    return PatientFactory(team=team, keyworker=alice, given_name="Pat", family_name="Example")


@pytest.fixture
def episode(patient, sam):
    return EpisodeFactory(patient=patient, lead_practitioner=sam)
