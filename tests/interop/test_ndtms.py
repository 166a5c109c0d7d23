"""The NDTMS monthly return (docs/design.md, Interoperability): a field map kept as data, every entity's columns
from a known record, records that cannot be sent listed with their reasons and kept out of the file, consent,
who may make it, the audit, the command, and a query count that does not grow with the caseload."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interop.ndtms.fieldmaps import Code, FieldMap, dataset_h, dataset_k, dataset_p, field_map
from interop.ndtms.models import NdtmsAgency, NdtmsConsent
from interop.ndtms.records import Period
from interop.ndtms.returns import NoAgencyCode, ndtms_return
from patients.models import ExitReason, Intervention, InterventionKind, Substance, TopStage, TreatmentEpisode
from recovery_reviews.models import Role
from reviews.models import ReviewStatus
from tests.support.factories import (
    EpisodeFactory,
    InterventionFactory,
    PatientFactory,
    StrategicReviewFactory,
    TopAssessmentFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TODAY = date(2026, 12, 10)
NOVEMBER = Period.month(2026, 11)
P = field_map("P")


def filled(fmap: FieldMap = P) -> FieldMap:
    """The map with the codes P's reference data would give (the shipped map has none for these: unknown)."""
    for kind, code in {
        InterventionKind.OST: "PHARM",
        InterventionKind.PSYCHOSOCIAL: "PSYCH",
        InterventionKind.RECOVERY_SUPPORT: "RECOV",
    }.items():
        fmap = fmap.with_code("intervention", kind, Code(code, "P"))
    return fmap.with_code("discharge_reason", ExitReason.DROPPED_OUT, Code("81", "P"))


@pytest.fixture
def agency(team):
    return NdtmsAgency.objects.create(team=team, agency_code="N0852")


def consent(patient, user, consented=True, on=date(2026, 1, 15)):
    return NdtmsConsent.objects.create(patient=patient, consented=consented, decided_on=on, recorded_by=user)


@pytest.fixture
def record(agency, episode, alice, sam):
    """Pat Example, in treatment since 15 January 2026 for heroin (and crack): OST whose dose changed on 1 March,
    psychosocial work from February to June, a completed review on 10 April, TOPs at start and at review."""
    episode.other_substances = [Substance.CRACK]
    episode.save(update_fields=["other_substances"])
    InterventionFactory(episode=episode, started_on=date(2026, 1, 15), ended_on=date(2026, 3, 1))
    InterventionFactory(episode=episode, started_on=date(2026, 3, 1), daily_dose_mg=Decimal("50"))
    Intervention.objects.create(
        episode=episode,
        kind=InterventionKind.PSYCHOSOCIAL,
        started_on=date(2026, 2, 1),
        ended_on=date(2026, 6, 30),
    )
    week = dict.fromkeys(("opiates_week4", "opiates_week3", "opiates_week2", "opiates_week1"), 7)
    TopAssessmentFactory(
        episode=episode,
        assessed_on=date(2026, 1, 15),
        stage=TopStage.START,
        alcohol_week4=1,
        alcohol_week3=1,
        alcohol_week2=1,
        alcohol_week1=1,
        **week,
        crack_week4=2,  # crack's other weeks unanswered: no total
        shared_needle=False,
        shared_paraphernalia=True,
        theft_from_vehicle=False,
        theft_other_property=False,
        psychological_health=8,
        quality_of_life=11,
    )
    TopAssessmentFactory(episode=episode, assessed_on=date(2026, 7, 1), stage=TopStage.REVIEW)
    TopAssessmentFactory(
        episode=episode, assessed_on=date(2026, 12, 2), stage=TopStage.REVIEW
    )  # after November
    StrategicReviewFactory(
        episode=episode,
        lead=sam,
        held_on=date(2026, 4, 10),
        status=ReviewStatus.COMPLETED,
        patient_took_part=True,
        completed_on=date(2026, 4, 10),
    )
    StrategicReviewFactory(episode=episode, lead=sam, held_on=date(2026, 10, 10))  # in progress: not sent
    consent(episode.patient, alice)
    return episode


def make(fmap=P, team=None, period=NOVEMBER):
    team = team or NdtmsAgency.objects.get().team
    return ndtms_return(episodes=TreatmentEpisode.objects.all(), team=team, period=period, fmap=fmap)


def table(ret):
    return [dict(zip(ret.header, row, strict=True)) for row in ret.rows]


def rows_of(ret, column):
    return [row for row in table(ret) if row[column]]


# --- The map is data ---------------------------------------------------------------------------------------------


def test_every_column_marked_k_or_h_is_in_that_data_sets_column_list():
    lists = {"K": set(dataset_k.COLUMNS), "H": set(dataset_h.COLUMNS)}
    for fields in P.entities.values():
        for f in fields:
            for letter in f.confirmed.split(","):
                if letter in lists:
                    assert f.name in lists[letter], (
                        f"{f.name} is marked {letter} but is not in its column list"
                    )
    assert len(P.columns) == len(set(P.columns)), "a column appears twice"


def test_every_code_of_every_map_says_on_what_evidence_it_stands():
    for name, codes in P.codes.items():
        for key, code in codes.items():
            assert code.confirmed in ("P", "K", "H", "H,K", "unconfirmed"), (name, key)
            if code.value is None:
                assert code.note, f"{name}[{key}] has no code and does not say why"


def test_changing_a_field_in_a_copy_of_the_map_changes_the_file_and_not_the_shipped_map(record):
    renamed = filled().with_field("client", "CLIENT", name="LOCALREF", source="episode.pk")
    ret = make(renamed)
    assert "LOCALREF" in ret.header and "CLIENT" not in ret.header
    assert {row["LOCALREF"] for row in table(ret)} == {str(record.pk)}
    recoded = filled().with_code("drug", Substance.HEROIN, Code("HEROIN-P", "P"))
    assert {row["DRUG1"] for row in table(make(recoded))} == {"HEROIN-P"}
    assert "CLIENT" in P.columns and P.codes["drug"][Substance.HEROIN].value == "1011"


def test_a_copy_of_the_map_that_makes_a_column_mandatory_stops_a_record_without_it(record):
    strict = filled().with_field("client", "SEX", mandatory=True)
    ret = make(strict)
    assert ret.rows == []
    assert any("SEX: Sex is missing" in p.reason and "does not record it" in p.reason for p in ret.problems)


# --- Each entity's rows from a known record ---------------------------------------------------------------------


def test_the_client_and_episode_columns_of_a_known_record(record):
    ret = make(filled())
    assert ret.problems == []
    rows = table(ret)
    assert len(rows) == 2 + 1 + 2  # two interventions, one review, two TOPs up to November's end
    client = {column: rows[0][column] for column in ("AGNCY", "CLIENTID", "EPISODID", "CONSENT", "FINITIAL")}
    assert client == {
        "AGNCY": "N0852",
        "CLIENTID": str(record.patient.pk),
        "EPISODID": str(record.pk),
        "CONSENT": "Y",
        "FINITIAL": "P",
    }
    assert {(r["SINITIAL"], r["DOB"], r["DRUG1"], r["DRUG2"], r["DRUG3"]) for r in rows} == {
        ("E", "01/06/1985", "1011", "3201", "")
    }
    assert {r["DISD"] for r in rows} == {""}  # open at November's end
    assert ret.file_name == "N0852-20261101-20261130-TREAT-IN-P.csv"


def test_interventions_with_start_and_end_and_a_dose_change_as_one_intervention(record):
    interventions = rows_of(make(filled()), "MODID")
    by_type = {row["MODAL"]: row for row in interventions}
    assert len(interventions) == 2
    first_ost = Intervention.objects.filter(kind="ost").order_by("started_on").first()
    assert by_type["PHARM"]["MODID"] == str(first_ost.pk)
    assert (by_type["PHARM"]["MODST"], by_type["PHARM"]["MODEND"]) == ("15/01/2026", "")
    assert (by_type["PSYCH"]["MODST"], by_type["PSYCH"]["MODEND"]) == ("01/02/2026", "30/06/2026")
    assert all(row["TOPID"] == "" and row["SUBMID"] == "" for row in interventions)


def test_a_completed_strategic_review_is_a_sub_intervention_review_of_what_was_current(record):
    (review,) = rows_of(make(filled()), "SUBMID")
    assert review["SUBMODDT"] == "10/04/2026"
    assert (review["PHMAIN"], review["PSYOTHR"], review["PHWTH"], review["RECOTH"]) == ("Y", "Y", "N", "N")
    assert review["MODID"] == "" and review["TOPID"] == ""


def test_top_items_and_stage(record):
    tops = rows_of(make(filled()), "TOPID")
    assert [t["TOPDATE"] for t in tops] == ["15/01/2026", "01/07/2026"]  # December's TOP is after the period
    start = tops[0]
    assert (start["TRSTAGE"], start["ALCUSE"], start["OPIUSE"], start["CRAUSE"]) == ("S", "4", "28", "")
    assert (start["SHARING"], start["OTHTHEFT"], start["ASSAULT"]) == ("Y", "N", "")
    assert (start["PSYHSTAT"], start["QUALLIFE"], start["PHSTAT"]) == ("8", "11", "")
    assert tops[1]["TRSTAGE"] == "R"


def test_an_exit_in_the_period_is_a_discharge_with_its_reason_and_the_interventions_exit_status(record, sam):
    from patients.services.treatment import episode_exit

    episode_exit(
        episode=record,
        exit_date=date(2026, 11, 20),
        exit_reason=ExitReason.DROPPED_OUT,
        by=sam,
        exit_relapse_risk="high",
        exit_risk_of_death_discussed=True,
        exit_harm_reduction_discussed=True,
        exit_discussion_note="Told of the risk of overdose.",
    )
    ret = make(filled())
    assert ret.problems == []
    assert {(r["DISD"], r["DISRSN"]) for r in table(ret)} == {("20/11/2026", "81")}
    ost = next(r for r in rows_of(ret, "MODID") if r["MODAL"] == "PHARM")
    assert (ost["MODEND"], ost["MODEXIT"]) == ("20/11/2026", "B")
    psych = next(r for r in rows_of(ret, "MODID") if r["MODAL"] == "PSYCH")
    assert psych["MODEXIT"] == ""  # ended in June while the episode continued: the record does not say how


def test_an_exit_after_the_period_is_not_in_its_return(record):
    TreatmentEpisode.objects.filter(pk=record.pk).update(
        exit_date=date(2026, 12, 5), exit_reason="dropped_out"
    )
    Intervention.objects.filter(episode=record, ended_on__isnull=True).update(ended_on=date(2026, 12, 5))
    ret = make(filled())
    assert {(r["DISD"], r["DISRSN"]) for r in table(ret)} == {("", "")}
    assert all(r["MODEND"] in ("", "30/06/2026") for r in rows_of(ret, "MODID"))


def test_the_period_holds_episodes_open_on_any_day_of_it(agency, alice, record):
    ended_before = EpisodeFactory(
        patient=PatientFactory(team=alice.team, keyworker=alice),
        exit_date=date(2026, 10, 31),
        exit_reason=ExitReason.OTHER,
    )
    entered_after = EpisodeFactory(
        patient=PatientFactory(team=alice.team, keyworker=alice), entry_date=date(2026, 12, 1)
    )
    ret = make(filled())
    assert ret.episodes == 1
    sent = {r["EPISODID"] for r in table(ret)}
    assert sent == {str(record.pk)} and str(ended_before.pk) not in sent and str(entered_after.pk) not in sent


# --- Records that cannot be sent ------------------------------------------------------------------------------


def test_a_record_with_an_unmapped_code_is_listed_with_its_reason_and_is_not_in_the_file(record, alice):
    fentanyl = EpisodeFactory(
        patient=PatientFactory(team=alice.team, keyworker=alice, given_name="Fen", family_name="Tanyl"),
        primary_drug=Substance.FENTANYL,
    )
    consent(fentanyl.patient, alice)
    ret = make(filled())
    assert [(p.episode_id, p.column) for p in ret.problems] == [(fentanyl.pk, "DRUG1")]
    assert "'Fentanyl and synthetic opioids' has no NDTMS code in the drug code map" in ret.problems[0].reason
    assert str(fentanyl.pk) not in {r["EPISODID"] for r in table(ret)}
    assert {r["EPISODID"] for r in table(ret)} == {str(record.pk)}
    assert (ret.episodes, ret.sent_episodes, ret.withheld_episodes) == (2, 1, 1)


def test_the_shipped_map_knows_no_intervention_or_discharge_code_and_says_so_rather_than_guess(record):
    ret = make(P)
    assert ret.rows == []
    reasons = " ".join(p.reason for p in ret.problems)
    assert "MODAL: 'Opioid substitution treatment' has no NDTMS code in the intervention code map" in reasons
    assert "P's intervention codes" in reasons


def test_a_missing_mandatory_item_is_listed(record):
    record.patient.given_name = " "
    record.patient.save(update_fields=["given_name"])
    ret = make(filled())
    assert ret.rows == []
    assert [p.column for p in ret.problems] == ["FINITIAL"]
    assert "First letter of first name is missing" in ret.problems[0].reason


def test_someone_under_18_at_entry_is_not_in_the_adult_return(record):
    record.patient.date_of_birth = date(2008, 6, 1)
    record.patient.save(update_fields=["date_of_birth"])
    (problem,) = make(filled()).problems
    assert "Aged 17 at entry" in problem.reason


def test_a_team_without_an_agency_code_has_no_return(team):
    with pytest.raises(NoAgencyCode, match="North has no NDTMS agency code"):
        ndtms_return(episodes=TreatmentEpisode.objects.all(), team=team, period=NOVEMBER)


# --- Consent ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["none", "withdrawn"])
def test_without_consent_only_the_identifying_keys_are_sent(record, alice, decision):
    if decision == "withdrawn":
        consent(record.patient, alice, consented=False, on=date(2026, 10, 1))
    else:
        NdtmsConsent.objects.all().delete()
    record.primary_drug = Substance.FENTANYL  # not sent, so its missing code does not stop the record
    record.save(update_fields=["primary_drug"])
    ret = make(filled())
    assert ret.problems == [] and ret.without_consent == 1
    (row,) = table(ret)
    assert {column: value for column, value in row.items() if value} == {
        "AGNCY": "N0852",
        "CLIENTID": str(record.patient.pk),
        "CONSENT": "N",
    }


# --- The page, the download, the audit ------------------------------------------------------------------------


def _query(team, month="2026-11"):
    return {"team": team.pk, "month": month}


def test_the_manager_sees_the_counts_and_each_record_that_cannot_be_sent(client, mona, record, alice):
    fentanyl = EpisodeFactory(
        patient=PatientFactory(team=alice.team, keyworker=alice, given_name="Fen", family_name="Tanyl"),
        primary_drug=Substance.FENTANYL,
    )
    consent(fentanyl.patient, alice)
    client.force_login(mona)
    response = client.get(reverse("ndtms:return"), _query(record.patient.team))
    page = response.content.decode()
    assert response.status_code == 200
    assert "North, November 2026" in page
    assert 'Cannot be sent</dt><dd class="col-sm-7" data-testid="ndtms-withheld">2' in page  # no MODAL codes
    assert f'href="/patients/{fentanyl.patient.pk}/">Fen Tanyl</a>' in page
    assert "has no NDTMS code in the drug code map" in page
    assert "<strong>1 record:</strong> DRUG1: &#x27;Fentanyl and synthetic opioids&#x27; has no" in page
    assert "No record can be sent yet, so there is no file to download." in page
    assert "N0852-20261101-20261130-TREAT-IN-P.csv" not in page
    seen = LogEntry.objects.filter(additional_data__patient_id=fentanyl.patient.pk, changes__has_key="list")
    assert seen.count() == 1  # naming the record on the page is an access


def test_the_download_is_the_file_and_is_on_the_managers_and_each_patients_log(
    client, mona, record, monkeypatch
):
    monkeypatch.setattr(dataset_p, "FIELD_MAP", filled())  # as a service that filled in its codes
    client.force_login(mona)
    page = client.get(reverse("ndtms:return"), _query(record.patient.team)).content.decode()
    assert "Download N0852-20261101-20261130-TREAT-IN-P.csv" in page and "None: every record" in page
    assert f'href="/ndtms/download/?team={record.patient.team.pk}&amp;month=2026-11"' in page
    assert not LogEntry.objects.filter(changes__has_key="export").exists()  # checking is not exporting
    response = client.get(reverse("ndtms:download"), _query(record.patient.team))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="N0852-20261101-20261130-TREAT-IN-P.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == P.columns and len(rows) == 1 + 5
    on_patient = LogEntry.objects.get(
        additional_data__patient_id=record.patient.pk, changes__has_key="export"
    )
    assert on_patient.actor == mona and on_patient.additional_data == {"patient_id": record.patient.pk}
    assert (
        "NDTMS return (data set P) N0852-20261101-20261130-TREAT-IN-P.csv" in on_patient.changes["export"][1]
    )
    on_manager = LogEntry.objects.filter(
        content_type__model="user", object_pk=str(mona.pk), changes__has_key="export"
    )
    assert on_manager.get().actor == mona


def test_a_manager_of_another_team_does_not_get_norths_records(client, record, other_team):
    max_ = UserFactory(username="max", role=Role.MANAGER, team=None)
    max_.managed_teams.add(other_team)
    client.force_login(max_)
    for name in ("ndtms:return", "ndtms:download"):
        response = client.get(reverse(name), _query(record.patient.team))
        assert response.status_code == 400
        assert "Choose one of the teams you manage." in response.content.decode()
        assert "text/csv" not in response["Content-Type"]
    assert not LogEntry.objects.filter(changes__has_key="export").exists()


@pytest.mark.parametrize("username", ["alice", "sam"])
def test_only_managers_make_the_return(client, record, request, username):
    client.force_login(request.getfixturevalue(username))
    assert client.get(reverse("ndtms:return")).status_code == 403
    assert client.get(reverse("ndtms:download"), _query(record.patient.team)).status_code == 403


@pytest.mark.parametrize(
    ("month", "said"),
    [
        ("November", "Enter the month as year and month, YYYY-MM"),
        ("2026-13", "Enter the month as year and month, YYYY-MM"),
        ("2027-01", "That month has not begun yet"),
        ("2019-12", "Data set P began in April 2020"),
        ("", "Enter the month the return is for"),
    ],
)
def test_a_month_that_is_not_one_says_what_is_wrong(client, mona, record, month, said):
    client.force_login(mona)
    response = client.get(reverse("ndtms:return"), _query(record.patient.team, month))
    assert response.status_code == 400 and said in response.content.decode()


def test_a_team_without_an_agency_code_is_an_error_on_the_form(client, mona, team):
    client.force_login(mona)
    response = client.get(reverse("ndtms:return"), _query(team))
    assert response.status_code == 400
    assert "North has no NDTMS agency code" in response.content.decode()


def test_the_page_offers_last_month_for_the_managers_teams(client, mona, team):
    client.force_login(mona)
    page = client.get(reverse("ndtms:return")).content.decode()
    assert 'value="2026-11"' in page and ">North</option>" in page


def test_queries_do_not_grow_with_the_number_of_patients(
    client, mona, record, alice, django_assert_num_queries
):
    def counted(name):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name), _query(record.patient.team)).status_code == 200
        return len(queries)

    client.force_login(mona)
    few = counted("ndtms:return"), counted("ndtms:download")
    for _ in range(6):
        episode = EpisodeFactory(patient=PatientFactory(team=alice.team, keyworker=alice))
        InterventionFactory(episode=episode)
        TopAssessmentFactory(episode=episode)
        consent(episode.patient, alice)
    assert (counted("ndtms:return"), counted("ndtms:download")) == few
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(reverse("ndtms:return"), _query(record.patient.team))
    with django_assert_num_queries(DOWNLOAD_QUERIES):
        client.get(reverse("ndtms:download"), _query(record.patient.team))


# Session, user, the manager's teams (read once a request, for the form and the scope), the team chosen, the agency
# code; the episodes with their patients, interventions, TOPs, reviews and consents (one each); the audit (one
# insert per 500 patients, and the manager's own entry for the download); on the page, the inbox count and the team
# menu.
PAGE_QUERIES = 14
DOWNLOAD_QUERIES = 11


# --- The command -------------------------------------------------------------------------------------------------


def test_the_command_prints_the_counts_and_problems_and_writes_the_file(record, tmp_path, monkeypatch):
    out = io.StringIO()
    call_command("ndtms_return", "--period", "2026-11", "--team", "North", stdout=out)
    said = out.getvalue()
    assert "cannot be sent: 1" in said
    assert "1 record(s) not sent: MODAL: 'Opioid substitution treatment' has no NDTMS code" in said
    assert (
        "Checked only: give --out" in said and not LogEntry.objects.filter(changes__has_key="export").exists()
    )

    monkeypatch.setattr(dataset_p, "FIELD_MAP", filled())
    target = tmp_path / "return.csv"
    out = io.StringIO()
    call_command("ndtms_return", "--period", "2026-11", "--team", "North", "--out", str(target), stdout=out)
    rows = list(csv.reader(target.open()))
    assert rows[0] == P.columns and len(rows) == 6 and "can be sent: 1" in out.getvalue()
    entry = LogEntry.objects.get(additional_data__patient_id=record.patient.pk, changes__has_key="export")
    assert entry.actor is None and "November 2026" in entry.changes["export"][1]
    assert list(tmp_path.iterdir()) == [target]  # nothing half-written left beside it


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--period", "2026-11", "--team", "Nowhere"], "--team Nowhere: there is no team of that name"),
        (["--period", "11/2026", "--team", "North"], "--period 11/2026: Enter the month as year and month"),
        (["--period", "2026-11", "--team", "North", "--as", "nobody"], "--as nobody: there is no such user"),
    ],
)
def test_the_command_says_what_is_wrong_with_its_arguments(record, arguments, said):
    with pytest.raises(CommandError, match=said):
        call_command("ndtms_return", *arguments)


def test_the_command_refuses_a_team_without_an_agency_code(team):
    with pytest.raises(CommandError, match="North has no NDTMS agency code"):
        call_command("ndtms_return", "--period", "2026-11", "--team", "North")


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_return_on_postgresql(record, alice):
    other = EpisodeFactory(
        patient=PatientFactory(team=alice.team, keyworker=alice), primary_drug=Substance.KETAMINE
    )
    consent(other.patient, alice, consented=True)
    ret = make(filled())
    assert connection.vendor == "postgresql"
    assert [p.episode_id for p in ret.problems] == [other.pk]
    assert len(ret.rows) == 5 and {r["CONSENT"] for r in table(ret)} == {"Y"}


# --- Recording consent -------------------------------------------------------------------------------------------


def test_a_keyworker_records_consent_and_the_next_return_sends_the_record(client, alice, record):
    NdtmsConsent.objects.all().delete()
    client.force_login(alice)
    url = reverse("ndtms:consent", kwargs={"pk": record.patient.pk})
    page = client.get(url).content.decode()
    assert "no decision recorded: read as no consent" in page
    response = client.post(url, {"consented": "yes", "decided_on": "2026-12-01"})
    assert response.status_code == 302
    decision = NdtmsConsent.objects.get()
    assert (decision.consented, decision.decided_on, decision.recorded_by) == (True, date(2026, 12, 1), alice)
    assert "consents (decided 1 Dec 2026)" in client.get(url).content.decode()
    assert {r["CONSENT"] for r in table(make(filled()))} == {"Y"}


def test_a_later_decision_to_withdraw_stands_and_the_first_is_kept(client, alice, record):
    client.force_login(alice)
    url = reverse("ndtms:consent", kwargs={"pk": record.patient.pk})
    client.post(url, {"consented": "no", "decided_on": "2026-12-09"})
    assert list(NdtmsConsent.objects.order_by("decided_on").values_list("consented", flat=True)) == [
        True,
        False,
    ]
    assert {r["CONSENT"] for r in table(make(filled()))} == {"N"}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"decided_on": "2026-12-01"}, "Say whether the patient consents to sharing with NDTMS."),
        ({"consented": "yes", "decided_on": "2026-12-11"}, "This date is in the future."),
        ({"consented": "yes", "decided_on": "1980-01-01"}, "before the patient&#x27;s date of birth"),
        ({"consented": "yes", "decided_on": "31/31/2026"}, "Enter the date as day, month and year."),
    ],
)
def test_a_consent_decision_that_cannot_be_recorded_says_why(client, alice, record, data, said):
    NdtmsConsent.objects.all().delete()
    client.force_login(alice)
    response = client.post(reverse("ndtms:consent", kwargs={"pk": record.patient.pk}), data)
    assert response.status_code == 400 and said in response.content.decode()
    assert not NdtmsConsent.objects.exists()


def test_another_teams_patients_consent_is_out_of_reach(client, olga, record):
    client.force_login(olga)
    url = reverse("ndtms:consent", kwargs={"pk": record.patient.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"consented": "no", "decided_on": "2026-12-01"}).status_code == 404
    assert list(NdtmsConsent.objects.values_list("consented", flat=True)) == [True]


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(client, mona, record, monkeypatch):
    record.patient.given_name = "=HYPERLINK(1)"
    record.patient.save(update_fields=["given_name"])
    monkeypatch.setattr(dataset_p, "FIELD_MAP", filled())
    client.force_login(mona)
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("ndtms:download"), _query(record.patient.team)).content.decode())
        )
    )
    assert {row["FINITIAL"] for row in rows} == {"'="}


def test_the_command_as_someone_of_another_team_sees_none_of_norths_records(record, olga):
    out = io.StringIO()
    call_command("ndtms_return", "--period", "2026-11", "--team", "North", "--as", "olga", stdout=out)
    assert "episodes open in the period: 0" in out.getvalue() and "Pat Example" not in out.getvalue()
