"""Reminder kinds are plug-ins (docs/reminders.md; docs/conventions.md 13): every registered kind implements
the one interface and has its three templates; the shared sweep and delivery name no kind, so a kind
registered here, in the test, is swept, claimed once, delivered to the inbox and withdrawn without a line of
them changing; and Reminder.kind takes only the kinds there are."""

import ast
import inspect
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.template.loader import get_template

from patients.models import TreatmentEpisode
from recovery_reviews.models import Role, User
from reviews import reminders, scheduling
from reviews.models import InboxItem, Reminder, ReminderKind, ReminderStage
from reviews.reminders import kinds
from reviews.reminders.kinds.base import Claim, Kind, active_people

SHARED_MODULES = ("__init__.py", "sweep.py", "delivery.py", "inbox.py")
ENTERED, TODAY = date(2026, 1, 15), date(2026, 1, 16)  # the episode fixture's entry date, and the day after


# --- (a) Every registered kind implements the interface and has its templates ------------------------------


def test_the_kinds_of_today_are_registered():
    assert [kind.name for kind in kinds.registered()] == ["review_due", "safety_event", "disengagement"]


@pytest.mark.parametrize("kind", kinds.registered(), ids=lambda kind: kind.name)
def test_every_registered_kind_implements_the_interface(kind):
    assert isinstance(kind, Kind) and not inspect.isabstract(type(kind))
    assert kind.name and kind.values and kind.stages and kind.recipients_described
    assert Path(inspect.getfile(type(kind))).stem == kind.name  # one module per kind, named after it
    assert set(kind.values) <= set(ReminderKind.values)
    assert set(kind.stages) <= set(ReminderStage.values)
    for field, values in (("kind", kind.values), ("stage", kind.stages)):
        limit = Reminder._meta.get_field(field).max_length
        assert all(len(value) <= limit for value in values)


@pytest.mark.parametrize("kind", kinds.registered(), ids=lambda kind: kind.name)
def test_every_registered_kind_has_its_three_templates_in_templates_emails(kind):
    folder = Path(django_settings.BASE_DIR) / "templates" / "emails"
    for name in kind.template_names():
        assert (folder / Path(name).name).is_file(), name
        get_template(name)  # and it compiles


def test_every_reminder_kind_value_belongs_to_exactly_one_registered_kind_and_no_stage_to_two():
    for value in ReminderKind.values:
        assert [kind.name for kind in kinds.registered() if value in kind.values] == [
            kinds.for_value(value).name
        ]
    stages = [stage for kind in kinds.registered() for stage in kind.stages]
    assert len(stages) == len(set(stages)) and set(stages) == set(ReminderStage.values)


def test_a_review_reminders_kind_is_the_owed_items_kind():
    assert set(kinds.for_value(ReminderKind.STRATEGIC_REVIEW).values) == set(scheduling.KINDS)


def test_the_registry_refuses_a_kind_that_shares_a_value_or_a_stage():
    class Overlapping(Welcome):
        name = "overlapping"
        stages = (ReminderStage.SAFETY_EVENT,)

    with pytest.raises(ValueError, match="shares"):
        kinds.register(Overlapping())
    assert "overlapping" not in [kind.name for kind in kinds.registered()]


# --- (b) The shared machinery names no kind -----------------------------------------------------------------


@pytest.mark.parametrize("module", SHARED_MODULES)
def test_the_shared_modules_name_no_kind(module):
    """No kind's name, value or stage as a string, no kind's module imported, no ReminderKind or
    ReminderStage."""
    source = (Path(inspect.getfile(reminders)).parent / module).read_text()
    tree = ast.parse(source)
    particular = {word for kind in kinds.registered() for word in (kind.name, *kind.values, *kind.stages)}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imported = {
        f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    named = {"ReminderKind", "ReminderStage", *particular}
    assert not strings & particular
    assert not names & named
    assert not {name for name in imported if named & set(name.split("."))}


class Welcome(Kind):
    """A kind only this test knows: the keyworker of someone who entered treatment in the last week is asked
    to welcome them; withdrawn once the episode has ended."""

    name = "test_welcome"
    values = ("test_welcome",)
    stages = ("welcome",)
    recipients_described = "the keyworker"

    def owed(self, today):
        claimed = set(Reminder.objects.filter(stage="welcome").values_list("episode_id", "recipient_id"))
        episodes = TreatmentEpisode.objects.filter(
            exit_date__isnull=True, entry_date__gte=today - timedelta(days=7), entry_date__lte=today
        ).values_list("pk", "entry_date", "patient__keyworker_id", "patient__keyworker__is_active")
        return {
            Claim(pk, "test_welcome", entry, "welcome", keyworker, entry + timedelta(days=7))
            for pk, entry, keyworker, active in episodes
            for recipient in active_people((keyworker, active))
            if (pk, recipient) not in claimed
        }

    def no_longer_owed(self, reminder, today):
        return "the episode has ended." if reminder.episode.exit_date else ""

    def recipients(self, reminder, today):
        keyworker = reminder.episode.patient.keyworker
        return active_people((keyworker.pk, keyworker.is_active))

    def context(self, reminder):
        return {"patient": reminder.episode.patient, "since": reminder.target}


@pytest.fixture
def welcome(settings, tmp_path):
    """Welcome registered through the registry, with its three templates in a folder of their own."""
    (tmp_path / "emails").mkdir()
    templates = {
        "subject.txt": "Welcome {{ patient }}",
        "body.txt": "{{ patient }} entered treatment on {{ since|date:'j M Y' }}: {{ url }}",
        "body.html": "<p>{{ patient }} entered treatment on {{ since|date:'j M Y' }}.</p>",
    }
    for suffix, text in templates.items():
        (tmp_path / "emails" / f"test_welcome_{suffix}").write_text(text)
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]},
        *settings.TEMPLATES[1:],
    ]
    kind = kinds.register(Welcome())
    yield kind
    kinds.unregister(kind)


@time_machine.travel(datetime(2026, 1, 16, 9, tzinfo=UTC), tick=False)
def test_a_kind_registered_elsewhere_is_swept_claimed_once_and_delivered_to_the_inbox(
    welcome, episode, alice
):
    result = reminders.reminders_sweep(today=TODAY)
    (reminder,) = Reminder.objects.all()
    assert result.claimed == [reminder.pk]
    assert (reminder.kind, reminder.stage, reminder.recipient, reminder.target) == (
        "test_welcome",
        "welcome",
        alice,
        ENTERED,
    )
    assert reminders.reminders_sweep(today=TODAY).to_deliver == []  # claimed once

    assert reminders.reminder_deliver(reminder_id=reminder.pk, today=TODAY) == "delivered"
    assert reminders.reminder_deliver(reminder_id=reminder.pk, today=TODAY) == "skipped"
    item = InboxItem.objects.get(reminder=reminder)
    assert (item.recipient, item.subject) == (alice, "Welcome Pat Example")
    assert item.body.startswith("Pat Example entered treatment on 15 Jan 2026: http")
    assert item.link == episode.patient.get_absolute_url()
    (email,) = mail.outbox
    assert email.subject == "Recovery Reviews: something needs your attention"
    assert email.alternatives[0][1] == "text/html" and "Pat" not in email.body
    assert email.extra_headers["X-Recovery-Reviews-Reminder"] == str(reminder.pk)


@time_machine.travel(datetime(2026, 1, 16, 9, tzinfo=UTC), tick=False)
def test_a_kind_registered_elsewhere_is_withdrawn_when_no_longer_owed(welcome, episode, alice, team):
    result = reminders.reminders_sweep(today=TODAY)
    TreatmentEpisode.objects.filter(pk=episode.pk).update(exit_date=TODAY, exit_reason="dropped_out")
    assert [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in result.to_deliver] == [
        "withdrawn"
    ]
    assert Reminder.objects.get().last_error == "Withdrawn, not sent: the episode has ended."
    assert not InboxItem.objects.exists() and not mail.outbox
    assert reminders.reminders_sweep(today=TODAY).to_deliver == []  # no longer owed, not claimed again


@time_machine.travel(datetime(2026, 1, 16, 9, tzinfo=UTC), tick=False)
def test_a_kind_registered_elsewhere_is_withdrawn_for_someone_no_longer_a_recipient(welcome, episode, team):
    result = reminders.reminders_sweep(today=TODAY)
    kate = User.objects.create(username="kate", first_name="Kate", role=Role.KEYWORKER, team=team)
    episode.patient.keyworker = kate
    episode.patient.save(update_fields=["keyworker"])
    assert [reminders.reminder_deliver(reminder_id=pk, today=TODAY) for pk in result.to_deliver] == [
        "withdrawn"
    ]
    assert Reminder.objects.get().last_error == (
        "Withdrawn, not sent: Alice Keyworker is no longer the keyworker for this patient."
    )


def test_without_the_kind_registered_nothing_of_it_is_swept(episode):
    reminders.reminders_sweep(today=TODAY)
    assert not Reminder.objects.exists()


@time_machine.travel(datetime(2026, 1, 16, 9, tzinfo=UTC), tick=False)
def test_a_claimed_reminder_of_a_kind_no_longer_registered_is_withdrawn_not_sent(episode, alice):
    """As an early version's reminders for "record_error" (a record to correct, not a review) were."""
    reminder = Reminder.objects.create(
        episode=episode, kind="record_error", target=TODAY, deadline=TODAY, stage="due", recipient=alice
    )
    assert reminders.reminder_deliver(reminder_id=reminder.pk, today=TODAY) == "withdrawn"
    assert "no kind of reminder registered sends 'record_error'" in Reminder.objects.get().last_error
    assert not mail.outbox


# --- (c) Reminder.kind takes only the kinds there are -------------------------------------------------------


def test_reminder_kind_refuses_a_value_that_is_not_a_choice(episode, alice):
    reminder = Reminder(
        episode=episode,
        kind=ReminderKind.STRATEGIC_REVIEW,
        target=ENTERED,
        deadline=ENTERED,
        stage=ReminderStage.DUE,
        recipient=alice,
    )
    reminder.full_clean()
    reminder.kind = "not_a_kind"
    with pytest.raises(ValidationError) as error:
        reminder.full_clean()
    assert list(error.value.message_dict) == ["kind"]


def test_the_kinds_stored_today_are_the_choices():
    assert ReminderKind.values == [
        "strategic_review",
        "recovery_check_up",
        "element_check_up",
        "safety_event",
        "disengagement",
    ]
    assert ReminderStage.values == ["due_soon", "due", "overdue", "safety_event", "disengagement"]
