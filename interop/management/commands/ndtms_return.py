"""manage.py ndtms_return --period 2026-11 --team North [--out file.csv] [--as username]: a team's NDTMS return for
a month, as from the manager's page /ndtms/ (docs/design.md, Interoperability). It prints the counts and every
record that cannot be sent with its reasons; with --out it writes the file of the records that can, and records the
export on each of those patients' access logs. With --as it sees only what that person may see and the log names
them; without, it reads every episode of the team and the log names the command."""

import os
import sys
import tempfile

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from interop.ndtms.forms import parse_month
from interop.ndtms.returns import NoAgencyCode, export_description, ndtms_return, record_return_export
from patients.access import episodes_for_user
from patients.models import TreatmentEpisode
from recovery_reviews.models import Team


class Command(BaseCommand):
    help = "Check, and with --out write, a team's NDTMS monthly return (data set P)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="The month, as YYYY-MM (for example 2026-11).")
        parser.add_argument("--team", required=True, help="The team's name, as in the application.")
        parser.add_argument("--out", help="Write the file here; without it the return is only checked.")
        parser.add_argument(
            "--as", dest="username", help="Act as this person: their scope, their name on the log."
        )

    def handle(self, *args, period, team, out=None, username=None, **options):
        try:
            period = parse_month(period, today=timezone.localdate())
        except ValueError as error:
            raise CommandError(f"--period {period}: {error}") from error
        team_obj = Team.objects.filter(name=team).first()
        if team_obj is None:
            names = ", ".join(Team.objects.order_by("name").values_list("name", flat=True)) or "none"
            raise CommandError(f"--team {team}: there is no team of that name. Teams: {names}.")
        user, episodes = None, TreatmentEpisode.objects.all()
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"--as {username}: there is no such user.")
            episodes = episodes_for_user(user)
        try:
            ret = ndtms_return(episodes=episodes, team=team_obj, period=period)
        except NoAgencyCode as error:
            raise CommandError(str(error)) from error
        self._report(ret, team_obj)
        if out:
            self._write(ret, out)
            what = export_description(ret, team_obj)
            record_return_export(ret, what=what, actor=user)
            LogEntry.objects.log_create(
                team_obj,
                force_log=True,
                action=LogEntry.Action.ACCESS,
                actor=user,
                changes={"export": [None, what], "command": [None, " ".join(["manage.py", *sys.argv[2:]])]},
            )
            self.stdout.write(
                f"Wrote {out} ({len(ret.rows)} rows); the export is on each patient's access log."
            )
        else:
            self.stdout.write("Checked only: give --out to write the file.")

    def _report(self, ret, team):
        self.stdout.write(
            f"NDTMS return, data set {ret.fmap.dataset}, {team}, {ret.period.label} ({ret.file_name})"
        )
        self.stdout.write(f"  episodes open in the period: {ret.episodes}")
        self.stdout.write(
            f"  can be sent: {ret.sent_episodes} ({ret.without_consent} without consent: keys only)"
        )
        self.stdout.write(f"  cannot be sent: {ret.withheld_episodes}")
        self.stdout.write(f"  rows in the file: {len(ret.rows)}")
        for reason, count in ret.reasons:
            self.stdout.write(f"  {count} record(s) not sent: {reason}")
        for problem in ret.problems:
            self.stdout.write(
                f"  not sent: patient {problem.patient_id} ({problem.patient}), episode {problem.episode_id}: "
                f"{problem.reason}"
            )

    def _write(self, ret, out):
        """All of the file or none of it: written beside the target, then moved into place."""
        folder = os.path.dirname(os.path.abspath(out))
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".csv.part")
        except OSError as error:
            raise CommandError(f"--out {out}: cannot write there ({error.strerror}).") from error
        try:
            with os.fdopen(handle, "w", newline="", encoding="utf-8") as target:
                ret.write(target)
            os.replace(temporary, out)
        except BaseException:
            os.unlink(temporary)
            raise
