"""factory_boy factories for the clinical record. Dates are fixed, never read from the clock."""

from datetime import UTC, date, datetime
from decimal import Decimal

import factory

from careplans.models import ActionOwner, CarePlan, Goal, GoalAction
from patients import models as pm
from recovery_reviews.models import Role, Team, User
from reviews import models as rm


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    role = Role.KEYWORKER
    team = factory.SubFactory(TeamFactory)
    password = factory.django.Password("correct horse battery staple")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.Patient

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = date(1985, 6, 1)
    team = factory.SubFactory(TeamFactory)
    keyworker = factory.SubFactory(UserFactory, team=factory.SelfAttribute("..team"))


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.TreatmentEpisode

    patient = factory.SubFactory(PatientFactory)
    entry_date = date(2026, 1, 15)
    primary_drug = pm.Substance.HEROIN


class InterventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.Intervention

    episode = factory.SubFactory(EpisodeFactory)
    kind = pm.InterventionKind.OST
    medicine = pm.Medicine.METHADONE
    daily_dose_mg = Decimal("60")
    started_on = factory.SelfAttribute("episode.entry_date")


class TopAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.TopAssessment

    episode = factory.SubFactory(EpisodeFactory)
    assessed_on = factory.SelfAttribute("episode.entry_date")
    stage = pm.TopStage.START
    recorded_by = factory.SelfAttribute("episode.patient.keyworker")


class PharmacyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.PharmacyReport

    episode = factory.SubFactory(EpisodeFactory)
    pharmacy_name = "High Street Pharmacy"
    period_start = date(2026, 2, 1)
    period_end = date(2026, 2, 14)
    doses_due = 14
    supervised_doses_taken = 14
    recorded_by = factory.SelfAttribute("episode.patient.keyworker")


class StrategicReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rm.StrategicReview

    episode = factory.SubFactory(EpisodeFactory)
    held_on = date(2026, 4, 10)
    lead = factory.SubFactory(
        UserFactory, role=Role.SENIOR_PRACTITIONER, team=factory.SelfAttribute("..episode.patient.team")
    )
    created_by = factory.SelfAttribute("lead")


class CarePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlan

    episode = factory.SubFactory(EpisodeFactory)
    agreed_on = factory.SelfAttribute("episode.entry_date")


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    care_plan = factory.SubFactory(CarePlanFactory)
    domain = pm.CoreDomain.DRUG_ALCOHOL_USE
    description = "Stop using heroin on top of the prescription"


def aware(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- Further records of an episode (appended for the model-rule tests) -----------------------------------------


class CircumstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.EpisodeCircumstance

    episode = factory.SubFactory(EpisodeFactory)
    code = pm.Circumstance.COMPLEX_NEEDS
    started_on = factory.SelfAttribute("episode.entry_date")


class DispensingArrangementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.DispensingArrangement

    episode = factory.SubFactory(EpisodeFactory)
    effective_from = factory.SelfAttribute("episode.entry_date")
    take_home_doses_per_week = 0
    change_reason = pm.DispensingChange.START
    reason_note = "Supervised consumption at the start of treatment."
    recorded_by = factory.SelfAttribute("episode.patient.keyworker")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.Appointment

    episode = factory.SubFactory(EpisodeFactory)
    keyworker = factory.SelfAttribute("episode.patient.keyworker")
    starts_at = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    status = pm.AppointmentStatus.ATTENDED
    review_note = "Reviewed use since last week; no change to the care plan."


class DrugTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.DrugTest

    episode = factory.SubFactory(EpisodeFactory)
    taken_on = date(2026, 2, 10)
    method = pm.TestMethod.ORAL_FLUID
    recorded_by = factory.SelfAttribute("episode.patient.keyworker")


class DrugTestResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = pm.DrugTestResult

    test = factory.SubFactory(DrugTestFactory)
    substance = pm.Substance.HEROIN
    result = pm.TestResult.NEGATIVE


class RecoveryCheckUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rm.RecoveryCheckUp

    episode = factory.SubFactory(
        EpisodeFactory, exit_date=date(2026, 9, 1), exit_reason=pm.ExitReason.COMPLETED_DRUG_FREE
    )
    sequence = 1
    held_on = date(2026, 9, 15)
    held_by = factory.SelfAttribute("episode.patient.keyworker")
    outcome = rm.CheckUpOutcome.STABLE


class UnmetNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rm.UnmetNeed

    episode = factory.SubFactory(EpisodeFactory)
    category = rm.UnmetNeedCategory.SETTING
    kind = rm.UnmetNeedKind.RESIDENTIAL_REHAB
    description = "Residential rehabilitation was needed; no funded place within six months."
    recorded_on = date(2026, 4, 10)
    recorded_by = factory.SelfAttribute("episode.patient.keyworker")


class GoalActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoalAction

    goal = factory.SubFactory(GoalFactory)
    description = "Book a GP appointment about sleep"
    owner = ActionOwner.PATIENT
