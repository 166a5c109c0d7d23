"""The caseload import (docs/design.md, Interoperability): the parser's messages for every malformed file, the dry
run, the all-or-nothing commit, re-running a file, a differing row refused, the schedules computed and the audit.
The pages and the command are in test_caseload_import_pages.py."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from interop.caseload_import import parser
from interop.caseload_import.models import CaseloadImport, ImportStatus
from interop.caseload_import.services import caseload_check, caseload_import_commit, caseload_import_upload
from patients.models import DispensingArrangement, Intervention, Patient, TreatmentEpisode
from recovery_reviews.audit import patient_history
from recovery_reviews.models import Role
from reviews.models import OwedItem, ReviewStatus, StrategicReview
from tests.support.factories import EpisodeFactory, PatientFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 11, 24)

HEADER = (
    "nhs_number,given_name,family_name,date_of_birth,team,keyworker,lead_practitioner,entry_date,"
    "primary_substance,other_substances,ost_medicine,ost_daily_dose_mg,dispensing,last_review_date,agreed_next_date"
)
# Two patients: one on methadone with a review and an agreed next date; one on no OST, never reviewed.
ROW_OST = "943 476 5919,Jo,Bloggs,14/03/1981,North,alice,sam,2025-06-02,heroin,crack; alcohol,methadone,60,supervised,2026-09-01,2026-12-01"
ROW_NEW = "401 023 2137,Sam,Smith,1990-01-31,,alice,,2026-10-01,Alcohol,,,,,,"
GOOD = [ROW_OST, ROW_NEW]


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


@pytest.fixture
def north(team, alice, sam, mona):
    return team


def upload(content: bytes, team, by) -> CaseloadImport:
    return caseload_import_upload(content=content, filename="caseload.csv", team=team, by=by)


def problems(content: bytes, team) -> list[tuple]:
    return [
        (p.line, p.column, p.what, p.fix) for p in caseload_check(content=content, team=team).plan.problems
    ]


def nothing_clinical_written() -> bool:
    return not (
        Patient.objects.exists() or TreatmentEpisode.objects.exists() or StrategicReview.objects.exists()
    )


# The parser: each malformed file gets its message and how to fix it, and nothing is written.


def test_a_windows_1252_file_is_refused_with_how_to_save_it_as_utf8(north):
    content = csv_file(
        "943 476 5919,Zoé,Bloggs,14/03/1981,North,alice,,2025-06-02,heroin,,,,,,", encoding="cp1252"
    )
    (problem,) = problems(content, north)
    assert problem[2].startswith("The file is not UTF-8: save it as 'CSV UTF-8' in Excel")
    assert "line 2" in problem[2]
    assert "CSV UTF-8 (Comma delimited)" in problem[3]
    assert nothing_clinical_written()


def test_utf8_with_a_byte_order_mark_and_excel_header_names_are_read(north):
    header = HEADER.replace("nhs_number", "NHS Number").replace("date_of_birth", "Date of Birth")
    content = b"\xef\xbb\xbf" + csv_file(
        "943 476 5919,Zoé,Bloggs,14/03/1981,North,alice,,2025-06-02,heroin,,,,,,", header=header
    )
    dry_run = caseload_check(content=content, team=north)
    assert dry_run.plan.problems == []
    assert dry_run.plan.new[0].patient.given_name == "Zoé"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04rest-of-a-workbook", "This is an Excel workbook (.xlsx), not a CSV file."),
        (
            "\ufeffnhs".encode("utf-16"),
            "The file is not UTF-8: save it as 'CSV UTF-8' in Excel (it is UTF-16",
        ),
        (HEADER.replace(",", ";").encode() + b"\r\n", "this file is not comma-separated"),
        (csv_file(header=HEADER), "The file has a header but no patients."),
        (csv_file(ROW_NEW, header=ROW_OST), "Line 1 is not the header: it names none of the columns."),
    ],
)
def test_a_file_that_cannot_be_read_says_why(north, content, says):
    (problem,) = problems(content, north)
    assert problem[2].startswith(says) or says in problem[2]
    assert problem[3]  # how to fix it


def test_a_missing_and_an_unknown_column_are_named(north):
    header = HEADER.replace("keyworker", "key_worker")
    missing, unknown = problems(csv_file(ROW_NEW, header=header), north)
    assert missing[:3] == (1, "keyworker", "The header lacks the column 'keyworker'.")
    assert unknown[:3] == (
        1,
        "key_worker",
        "The header has the column 'key_worker', which this import does not know.",
    )


def test_more_rows_than_one_import_takes_is_refused(north, monkeypatch):
    monkeypatch.setattr(parser, "MAX_ROWS", 1)
    (problem,) = problems(csv_file(*GOOD), north)
    assert problem[2] == "The file has more than 1 patients; one import takes at most 1."


@pytest.mark.parametrize(
    ("change", "column", "what"),
    [
        (("14/03/1981", "31/02/1981"), "date_of_birth", "'31/02/1981' is not a date that exists."),
        (("2025-06-02", "2 June 2025"), "entry_date", "'2 June 2025' is not a date this import reads."),
        (("2025-06-02", "2027-01-01"), "entry_date", "The entry date, 1 Jan 2027, is in the future."),
        (("943 476 5919", "943 476 5918"), "nhs_number", "The NHS number's check digit is wrong"),
        (
            ("943 476 5919", "943 476 591"),
            "nhs_number",
            "An NHS number has 10 digits; this one has 9.",
        ),
        ((",alice,", ",bob,"), "keyworker", "No one in North has the username 'bob'."),
        ((",alice,", ",sam,"), "keyworker", "'sam' is a senior practitioner, not a keyworker."),
        ((",sam,", ",alice,"), "lead_practitioner", "'alice' is a keyworker, not a senior practitioner."),
        ((",North,", ",South,"), "team", "This row is for the team 'South'; this import is into North."),
        (("heroin,", "glue,"), "primary_substance", "'glue' is not a substance this service records."),
        ((",60,", ",600,"), "ost_daily_dose_mg", "A daily methadone dose of 600 mg is not plausible"),
        ((",60,", ",,"), "ost_daily_dose_mg", "The OST medicine is given without its daily dose."),
        (("supervised", "14"), "dispensing", "'14' is not a dispensing arrangement this import reads."),
        ((",sam,", ",,"), "lead_practitioner", "A last review date is given without the lead practitioner."),
        (
            ("2026-12-01", "2026-08-01"),
            "agreed_next_date",
            "The agreed next date is not after the last review.",
        ),
        (
            ("2026-09-01", "2025-01-01"),
            "last_review_date",
            "The last review date, 1 Jan 2025, is before the entry",
        ),
        ((",Jo,", ",,"), "given_name", "The given name is missing."),
    ],
)
def test_a_bad_value_is_a_problem_on_its_line_and_column_and_nothing_is_imported(north, change, column, what):
    content = csv_file(ROW_NEW, ROW_OST.replace(*change))
    found = problems(content, north)
    assert any(
        line == 3 and col == column and text.startswith(what) and fix for line, col, text, fix in found
    ), found
    checked = upload(content, north, north.managers.get())
    assert (
        checked.status == ImportStatus.PROBLEMS
        and checked.rows_with_problems == 1
        and checked.new_patients == 1
    )
    with pytest.raises(ValidationError, match="This file has problems"):
        caseload_import_commit(upload=checked, by=north.managers.get())
    assert nothing_clinical_written()


def test_a_line_with_more_values_than_the_header_says_so(north):
    (problem,) = problems(csv_file(ROW_NEW + ",extra"), north)
    assert problem[:3] == (2, "", "This line has 16 values; the header has 15 columns.")


def test_the_same_nhs_number_twice_in_the_file_is_a_problem(north):
    found = problems(csv_file(ROW_NEW, ROW_NEW.replace("Sam,Smith", "Samuel,Smith")), north)
    assert (3, "nhs_number", "This NHS number is on line 2 too.") in [f[:3] for f in found]


def test_a_keyworker_who_has_left_is_a_problem(north, alice):
    alice.is_active = False
    alice.save()
    found = problems(csv_file(ROW_NEW), north)
    assert found[0][1:3] == ("keyworker", "'alice' has left (their account is no longer active).")


# The dry run, the commit, and re-running a file.


def test_a_good_file_is_checked_then_imported_with_everything_it_holds(north, alice, sam, mona):
    checked = upload(csv_file(*GOOD), north, mona)
    assert (checked.status, checked.rows, checked.new_patients, checked.already_imported) == (
        ImportStatus.READY,
        2,
        2,
        0,
    )
    assert nothing_clinical_written()

    done = caseload_import_commit(upload=checked, by=mona)
    assert (
        done.status == ImportStatus.COMMITTED
        and done.committed_by == mona
        and done.content in (b"", memoryview(b""))
    )
    jo = Patient.objects.get(nhs_number="9434765919")
    assert (jo.given_name, jo.family_name, jo.date_of_birth, jo.team, jo.keyworker) == (
        "Jo",
        "Bloggs",
        date(1981, 3, 14),
        north,
        alice,
    )
    episode = jo.episodes.get()
    assert (
        episode.entry_date,
        episode.primary_drug,
        episode.other_substances,
        episode.lead_practitioner,
    ) == (date(2025, 6, 2), "heroin", ["crack", "alcohol"], sam)
    assert (episode.team, episode.keyworker) == (north, alice)  # the triggers
    ost = Intervention.objects.get(episode=episode)
    assert (ost.kind, ost.medicine, ost.daily_dose_mg, ost.started_on, ost.ended_on) == (
        "ost",
        "methadone",
        Decimal("60"),
        date(2025, 6, 2),
        None,
    )
    dispensing = DispensingArrangement.objects.get(episode=episode)
    assert (dispensing.take_home_doses_per_week, dispensing.effective_from, dispensing.recorded_by) == (
        0,
        date(2025, 6, 2),
        mona,
    )
    review = StrategicReview.objects.get(episode=episode)
    assert (
        review.status,
        review.completed_on,
        review.patient_took_part,
        review.lead,
        review.agreed_next_date,
    ) == (ReviewStatus.COMPLETED, date(2026, 9, 1), True, sam, date(2026, 12, 1))
    smith = Patient.objects.get(nhs_number="4010232137").episodes.get()
    assert (smith.primary_drug, smith.lead_practitioner, smith.interventions.count()) == ("alcohol", None, 0)


def test_every_imported_episode_has_the_schedule_the_policy_gives(north, mona):
    caseload_import_commit(upload=upload(csv_file(*GOOD), north, mona), by=mona)
    jo = TreatmentEpisode.objects.get(patient__nhs_number="9434765919")
    # Rule 5: the date agreed at the last review (1 Sep 2026) stands, being earlier than 6 months after it.
    assert (jo.next_review_kind, jo.next_review_target, jo.next_review_deadline) == (
        "strategic_review",
        date(2026, 12, 1),
        date(2026, 12, 1),
    )
    assert jo.schedule_computed_at is not None and jo.first_review_completed_on == date(2026, 9, 1)
    smith = TreatmentEpisode.objects.get(patient__nhs_number="4010232137")
    # Rule 1: the first review 3 months after entry, no later than 6.
    assert (smith.next_review_target, smith.next_review_deadline) == (date(2027, 1, 1), date(2027, 4, 1))
    assert set(OwedItem.objects.values_list("episode_id", "target")) == {
        (jo.pk, date(2026, 12, 1)),
        (smith.pk, date(2027, 1, 1)),
    }


def test_the_schedule_stored_is_the_one_a_refresh_would_store(north, mona):
    from reviews.services.schedule import episode_schedule_refresh

    caseload_import_commit(upload=upload(csv_file(*GOOD), north, mona), by=mona)
    for episode in TreatmentEpisode.objects.all():
        assert episode_schedule_refresh(episode) is False  # nothing to change


def test_an_ost_start_after_entry_is_a_transition_that_brings_the_review_forward(north, mona):
    header = HEADER + ",ost_start_date"
    row = ROW_OST.replace("2026-09-01,2026-12-01", ",") + ",2026-10-15"
    caseload_import_commit(upload=upload(csv_file(row, header=header), north, mona), by=mona)
    episode = TreatmentEpisode.objects.get()
    assert Intervention.objects.get().started_on == date(2026, 10, 15)
    # Entry 2 Jun 2025: the first review was due by 2 Dec 2025; the transition's 3 months do not move it later.
    assert episode.next_review_deadline == date(2025, 12, 2)


def test_the_same_file_again_changes_nothing(north, mona):
    content = csv_file(*GOOD)
    caseload_import_commit(upload=upload(content, north, mona), by=mona)
    before = (
        list(Patient.objects.order_by("pk").values()),
        list(TreatmentEpisode.objects.order_by("pk").values()),
    )
    again = upload(content, north, mona)
    assert (again.status, again.new_patients, again.already_imported, again.problems) == (
        ImportStatus.READY,
        0,
        2,
        [],
    )
    done = caseload_import_commit(upload=again, by=mona)
    assert done.status == ImportStatus.COMMITTED and done.new_patients == 0
    assert (
        list(Patient.objects.order_by("pk").values()),
        list(TreatmentEpisode.objects.order_by("pk").values()),
    ) == before
    assert (
        Intervention.objects.count(),
        DispensingArrangement.objects.count(),
        StrategicReview.objects.count(),
    ) == (1, 1, 1)


def test_a_row_that_differs_from_the_record_is_refused_not_overwritten(north, mona):
    caseload_import_commit(upload=upload(csv_file(*GOOD), north, mona), by=mona)
    changed = ROW_OST.replace("Bloggs", "Blogs").replace(",60,", ",50,")
    checked = upload(csv_file(changed, ROW_NEW), north, mona)
    assert checked.status == ImportStatus.PROBLEMS
    (problem,) = checked.problems
    assert problem["line"] == 2
    assert problem["column"] == "family_name, ost_medicine, ost_daily_dose_mg, ost_start_date"
    assert "never overwrites a clinical record" in problem["fix"]
    assert Patient.objects.get(nhs_number="9434765919").family_name == "Bloggs"
    assert Intervention.objects.get().daily_dose_mg == Decimal("60")


def test_a_patient_registered_since_the_dry_run_is_found_again_at_commit_and_nothing_is_imported(
    north, alice, mona
):
    checked = upload(csv_file(*GOOD), north, mona)
    PatientFactory(
        team=north, keyworker=alice, nhs_number="4010232137", given_name="Sam", family_name="Smyth"
    )
    done = caseload_import_commit(upload=checked, by=mona)
    assert done.status == ImportStatus.PROBLEMS
    assert done.problems[0]["line"] == 3
    assert Patient.objects.count() == 1  # the one registered since, and none of the file's


def test_a_patient_of_another_team_is_a_problem_that_says_not_where_and_is_logged_on_their_record(
    north, mona, other_team, olga
):
    theirs = PatientFactory(team=other_team, keyworker=olga, nhs_number="4010232137")
    checked = upload(csv_file(ROW_NEW), north, mona)
    (problem,) = checked.problems
    assert problem["what"] == "A patient with this NHS number is already registered, in another team."
    assert "South" not in problem["what"] + problem["fix"]
    match = LogEntry.objects.get(object_pk=str(theirs.pk), changes__has_key="registration_match")
    assert match.actor == mona


def test_a_namesake_without_the_nhs_number_is_a_problem(north, alice, mona):
    PatientFactory(
        team=north,
        keyworker=alice,
        nhs_number="",
        given_name="SAM",
        family_name="smith",
        date_of_birth=date(1990, 1, 31),
    )
    (problem,) = upload(csv_file(ROW_NEW), north, mona).problems
    assert problem["column"] == "given_name, family_name, date_of_birth"


def test_a_patient_already_in_treatment_without_an_open_episode_differs(north, alice, mona):
    patient = PatientFactory(
        team=north,
        keyworker=alice,
        nhs_number="4010232137",
        given_name="Sam",
        family_name="Smith",
        date_of_birth=date(1990, 1, 31),
    )
    EpisodeFactory(
        patient=patient, entry_date=date(2026, 1, 1), exit_date=date(2026, 5, 1), exit_reason="dropped_out"
    )
    (problem,) = upload(csv_file(ROW_NEW), north, mona).problems
    assert "entry_date (the patient has no open episode)" in problem["column"]


# Who may import, and the audit.


def test_only_a_manager_of_the_team_imports_into_it(north, alice, other_team):
    south_manager = UserFactory(role=Role.MANAGER, team=None)
    south_manager.managed_teams.add(other_team)
    for user in (alice, south_manager):
        with pytest.raises(PermissionDenied):
            upload(csv_file(*GOOD), north, user)
    assert not CaseloadImport.objects.exists()


def test_the_commit_is_refused_to_a_manager_of_another_team(north, mona, other_team):
    checked = upload(csv_file(*GOOD), north, mona)
    south_manager = UserFactory(role=Role.MANAGER, team=None)
    south_manager.managed_teams.add(other_team)
    with pytest.raises(PermissionDenied):
        caseload_import_commit(upload=checked, by=south_manager)
    assert nothing_clinical_written()


def test_the_import_and_every_record_it_creates_are_audited(north, mona):
    checked = upload(csv_file(*GOOD), north, mona)
    caseload_import_commit(upload=checked, by=mona)
    entries = LogEntry.objects.filter(object_pk=str(checked.pk), changes__has_key="caseload_import").order_by(
        "pk"
    )
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert all(e.actor == mona for e in entries)
    assert checked.sha256 in entries[1].changes_dict["file"][1]
    assert (
        entries[1].changes_dict["counts"][1]
        == "2 rows: 2 new, 0 already imported, 0 with problems (0 problems)"
    )
    jo = Patient.objects.get(nhs_number="9434765919")
    logged = {(e.content_type.model, e.action, e.actor_id) for e in patient_history(jo.pk)}
    assert logged == {
        (model, LogEntry.Action.CREATE, mona.pk)
        for model in (
            "patient",
            "treatmentepisode",
            "intervention",
            "dispensingarrangement",
            "strategicreview",
        )
    }


def test_an_upload_not_committed_within_a_day_is_dropped(north, mona, time_machine):
    checked = upload(csv_file(*GOOD), north, mona)
    time_machine.move_to("2026-11-25T12:00Z")
    with pytest.raises(ValidationError, match="not imported within a day"):
        caseload_import_commit(upload=checked, by=mona)
    checked.refresh_from_db()
    assert checked.status == ImportStatus.EXPIRED and bytes(checked.content) == b""
    assert nothing_clinical_written()


@pytest.mark.postgres
def test_the_commit_on_postgresql_writes_all_and_computes_every_schedule(north, mona):
    done = caseload_import_commit(upload=upload(csv_file(*GOOD), north, mona), by=mona)
    assert done.status == ImportStatus.COMMITTED
    assert set(TreatmentEpisode.objects.values_list("next_review_target", flat=True)) == {
        date(2026, 12, 1),
        date(2027, 1, 1),
    }
    assert OwedItem.objects.filter(team=north).count() == 2  # the owed items' triggers ran


def test_another_teams_staff_and_team_are_not_found(north, mona):
    other = TeamFactory(name="East")
    UserFactory(username="eve", role=Role.KEYWORKER, team=other)
    found = problems(csv_file(ROW_NEW.replace(",alice,", ",eve,")), north)
    assert found[0][2] == "No one in North has the username 'eve'."


def test_a_line_is_numbered_as_a_spreadsheet_numbers_it_past_a_value_over_two_lines(north):
    spans = '943 476 5919,"Jo\nAnne",Bloggs,14/03/1981,North,alice,,2025-06-02,heroin,,,,,,'
    found = problems(csv_file(spans, ROW_NEW.replace("1990-01-31", "1990-13-31")), north)
    assert [(line, column) for line, column, *_ in found] == [(4, "date_of_birth")]


def test_take_home_doses_and_medicine_names_are_read_as_people_write_them(north):
    row = ROW_OST.replace("methadone,60,supervised", "Buprenorphine (sublingual),12 mg,3 take-home")
    (new,) = caseload_check(content=csv_file(row), team=north).plan.new
    assert (new.ost.medicine, new.ost.daily_dose_mg, new.dispensing.take_home_doses_per_week) == (
        "buprenorphine",
        Decimal("12"),
        3,
    )


def test_an_agreed_date_beyond_six_months_is_not_used_and_the_reasons_say_why(north, mona):
    row = ROW_OST.replace("2026-09-01,2026-12-01", "2026-09-01,2027-06-01")
    caseload_import_commit(upload=upload(csv_file(row), north, mona), by=mona)
    episode = TreatmentEpisode.objects.get()
    assert episode.next_review_target == date(2027, 3, 1)  # rule 2: 6 months after the last review
    assert any(
        "The agreed date of 1 Jun 2027 is more than 6 months" in r for r in episode.next_review_reasons
    )


def test_a_value_too_long_for_any_csv_is_a_problem_not_an_error(north):
    (problem,) = problems(csv_file(ROW_NEW.replace("Smith", '"' + "x" * 200_000 + '"')), north)
    assert problem[2].startswith("The file cannot be read as CSV")
