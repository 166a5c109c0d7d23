"""The interface every reminder kind implements, and the helpers kinds share.

docs/reminders.md, "The interface a kind implements".

The shared machinery (sweep.py, delivery.py) asks a kind four things and knows nothing else about it:

- what is owed today: ``owed(today)``, one bulk read returning the claims (one per recipient) not yet claimed;
- whether a claimed reminder is still owed when its delivery runs: ``no_longer_owed(reminder, today)``;
- who receives it now: ``recipients(reminder, today)``; a reminder to anyone else is withdrawn;
- what it says: ``message(reminder)``, rendered from the kind's three templates in templates/emails/
  (``<name>_subject.txt``, ``<name>_body.txt``, ``<name>_body.html``) with ``context(reminder)``.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, NamedTuple

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from recovery_reviews.models import Role, User
from reviews.models import Reminder


class Claim(NamedTuple):
    """One reminder owed, as the sweep inserts it: its identity under the unique constraint reminder_sent_once
    (episode, kind, target, stage, recipient) first, so that claims sort in the one total order the sweep inserts
    them in, then the rest of the row."""

    episode: int
    kind: str  # a ReminderKind value of the kind that owes it
    target: date
    stage: str
    recipient: int
    deadline: date


@dataclass(frozen=True)
class Message:
    """What a reminder says: the email's subject, text and HTML; the inbox item takes the subject, the text
    and the path."""

    subject: str
    text: str
    html: str
    path: str  # the page it opens, on this site


class Kind(ABC):
    """A kind of reminder. One instance per kind is registered in reviews.reminders.kinds."""

    # The module's name; also the prefix of its templates in templates/emails/.
    name: ClassVar[str]
    # The Reminder.kind values (ReminderKind) its claims carry: the delivery finds the kind by them.
    values: ClassVar[tuple[str, ...]]
    # The Reminder.stage values its claims carry; no other kind's.
    stages: ClassVar[tuple[str, ...]]
    # Who receives it, for the reason a reminder to someone else is withdrawn: "the keyworker or lead".
    recipients_described: ClassVar[str]

    @abstractmethod
    def owed(self, today: date) -> Iterable[Claim]:
        """Every reminder of this kind owed today and not yet claimed, one Claim per recipient.

        A bulk read: a constant number of queries, whatever the number of episodes (the sweep's query count is
        pinned). Skipping what is claimed already keeps a sweep with nothing new to a few reads; the claim's
        ON CONFLICT still decides between sweeps running at once, so leaving some out is only an optimisation.
        """

    @abstractmethod
    def no_longer_owed(self, reminder: Reminder, today: date) -> str:
        """Why a claimed reminder of this kind should not go out now (what it was about has moved on), or "".

        Called at delivery, once the lease is held, with the episode, its patient, keyworker and lead
        practitioner and the recipient selected. Whether the recipient still receives it is asked next, of
        recipients().
        """

    @abstractmethod
    def recipients(self, reminder: Reminder, today: date) -> set[int]:
        """The ids of the people who receive this reminder now (called once no_longer_owed has said "")."""

    @abstractmethod
    def context(self, reminder: Reminder) -> dict:
        """The templates' context; ``url`` (the link, absolute) is added to it."""

    def link(self, reminder: Reminder) -> str:
        """The page the reminder opens: by default the patient's record, which applies its own access
        rules."""
        return reverse("patients:detail", args=[reminder.episode.patient_id])

    @classmethod
    def template_names(cls) -> tuple[str, str, str]:
        return (
            f"emails/{cls.name}_subject.txt",
            f"emails/{cls.name}_body.txt",
            f"emails/{cls.name}_body.html",
        )

    def message(self, reminder: Reminder) -> Message:
        path = self.link(reminder)
        context = {**self.context(reminder), "url": f"{settings.SITE_URL}{path}"}
        subject, text, html = self.template_names()
        return Message(
            subject=" ".join(render_to_string(subject, context).split()),
            text=render_to_string(text, context),
            html=render_to_string(html, context),
            path=path,
        )

    def __repr__(self):
        return f"<reminder kind {self.name}>"


# --- Helpers kinds share ------------------------------------------------------------------------------------


def active_people(*people: tuple[int | None, bool]) -> set[int]:
    """The ids among (id, is_active) pairs of those who are there and active: a keyworker or lead practitioner
    who has left is not reminded (their patients' reminders reach whoever else looks after them)."""
    return {pk for pk, active in people if pk and active}


def managers_by_team(team_id: int | None = None) -> dict[int, set[int]]:
    """Active users with the manager role, by each team they manage (User.managed_teams): one query."""
    rows = User.managed_teams.through.objects.filter(user__role=Role.MANAGER, user__is_active=True)
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
    managers: dict[int, set[int]] = {}
    for team, user in rows.values_list("team_id", "user_id"):
        managers.setdefault(team, set()).add(user)
    return managers
