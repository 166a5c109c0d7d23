"""The patients whose records show the riskiest moments (docs/design.md, "Second edition: the riskiest moments";
Intro, §1.6, §1.7, App. B, App. C 2): a methadone cut and OST ended mid-episode (rule 3b), a run of missed doses
over two pharmacy reports that the prescriber is not yet told of (rule 4b), a review that found no appearance of
benefit (rule 3c), a death and a transfer (rule 7 amended), and after exit a check-up that could not reach the
person, one that found early signs of relapse, and one that arranged rapid access back into treatment (rule 7c).

They are North's patients, where the logins kw.north, sp.north and mgr.north look; most are on Aisha Khan's
(kw.north) own caseload, two on Tom Bennett's (kw.north2). Each one's history up to the moment is loaded with
everyone else's, in bulk (course(), set_up() and finish() shape it); the moment itself is recorded afterwards
through the services a keyworker or senior practitioner uses (tell()), by them and dated relative to the demo's
today, so that every rule of the record holds and the stored schedule is the one a user would have produced."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from patients import models as pm
from recovery_reviews.management.demo import evidence, moments
from recovery_reviews.management.demo.course import Course, demo_nhs_number

MIN_PATIENTS = 20  # a smaller demo has no room for them beside the patients drawn at random
# Their family names are none of the other patients' (vocabulary.FAMILY_NAMES): a search finds them at once.


@dataclass(frozen=True)
class Story:
    key: str
    given_name: str
    family_name: str
    born: date
    keyworker: str  # the keyworker's login
    primary_drug: str
    other_substances: tuple[str, ...]
    trajectory: str  # how the patient fares (course.Course)
    entered: int  # entered treatment this many days before the demo's today
    ended: int = 0  # left treatment this many days before today (recorded by tell()); 0: still in treatment
    co_morbidities: str = ""


STORIES = (
    Story(
        "dose_cut", "Dean", "Whitworth", date(1979, 6, 14), "kw.north", "heroin", ("crack",), "improving", 150
    ),
    Story(
        "ost_ended",
        "Kelly",
        "Brierley",
        date(1986, 2, 3),
        "kw.north2",
        "heroin",
        ("cannabis",),
        "improving",
        200,
    ),
    Story(
        "missed_doses",
        "Shaun",
        "Hollis",
        date(1974, 10, 22),
        "kw.north",
        "heroin",
        ("crack", "alcohol"),
        "plateaued",
        160,
    ),
    Story(
        "no_benefit",
        "Chantelle",
        "Rowe",
        date(1991, 7, 9),
        "kw.north",
        "crack",
        ("alcohol", "cannabis"),
        "deteriorating",
        135,
    ),
    Story(
        "died",
        "Wayne",
        "Hepworth",
        date(1969, 12, 1),
        "kw.north",
        "heroin",
        ("benzodiazepines",),
        "deteriorating",
        420,
        ended=40,
        co_morbidities="COPD; smokes 20 a day.",
    ),
    Story(
        "transferred",
        "Gemma",
        "Lister",
        date(1988, 4, 17),
        "kw.north2",
        "heroin",
        (),
        "improving",
        480,
        ended=75,
    ),
    Story(
        "not_reached",
        "Craig",
        "Mottram",
        date(1983, 9, 30),
        "kw.north",
        "heroin",
        ("crack",),
        "plateaued",
        380,
        ended=24,
    ),
    Story(
        "relapse_signs",
        "Leanne",
        "Greenwood",
        date(1985, 1, 26),
        "kw.north",
        "heroin",
        ("alcohol",),
        "improving",
        460,
        ended=100,
    ),
    Story(
        "back_in_treatment",
        "Jamie",
        "Crossley",
        date(1990, 5, 5),
        "kw.north",
        "heroin",
        ("crack",),
        "deteriorating",
        420,
        ended=75,
    ),
)
BY_KEY = {story.key: story for story in STORIES}

METHADONE, BUPRENORPHINE = pm.Medicine.METHADONE, pm.Medicine.BUPRENORPHINE


def _ago(demo, days: int) -> date:
    return demo.today - timedelta(days=days)


def course(demo, story: Story) -> Course:
    """The story's patient and episode, in North, with the profile every demo patient has (DemoService)."""
    today = demo.today
    patient = pm.Patient(
        given_name=story.given_name,
        family_name=story.family_name,
        date_of_birth=story.born,
        nhs_number=demo_nhs_number(demo.rng, demo.nhs_numbers_taken),
        team=demo.teams["North"],
        keyworker=demo.users[story.keyworker],
    )
    demo.add(patient)
    episode = pm.TreatmentEpisode(
        patient=patient,
        entry_date=today - timedelta(days=story.entered),
        primary_drug=story.primary_drug,
        other_substances=list(story.other_substances),
        co_morbidities=story.co_morbidities,
        lead_practitioner=demo.leads["North"],
    )
    demo.add(episode)
    end = _ago(demo, story.ended) if story.ended else today
    told = Course(episode=episode, trajectory=story.trajectory, end=end, story=story.key)
    demo.profile(told, story.primary_drug, list(story.other_substances))
    return told


# --- The history up to the moment, loaded in bulk ------------------------------------------------------------


def set_up(demo, course: Course) -> None:
    """The story's treatment (instead of the interventions and circumstances drawn at random), and where its
    bulk-loaded reviews and pharmacy reports stop. An exit is not in the bulk load: tell() records it, and the
    history runs up to it (course.end)."""
    episode, entry = course.episode, course.episode.entry_date
    demo.intervention(
        episode,
        "psychosocial",
        entry + timedelta(days=3),
        None,
        note="Keywork-based psychosocial: motivational work and relapse prevention.",
    )
    if course.story == "no_benefit":  # no prescribing: keywork and groups only
        course.reviews_until = entry  # its first review is recorded through the services
        course.plot["review"] = _ago(demo, 40)
        return
    if course.story == "ost_ended":
        medicine, maintenance = BUPRENORPHINE, 12
    else:
        medicine, maintenance = (
            METHADONE,
            {"died": 80, "missed_doses": 70, "relapse_signs": 50}.get(course.story, 60),
        )
    starting = 8 if medicine == BUPRENORPHINE else 30
    titrated = entry + timedelta(days=21)
    course.ost.append(
        demo.intervention(
            episode,
            "ost",
            entry,
            titrated - timedelta(days=1),
            medicine,
            starting,
            "Starting dose, titrated weekly.",
        )
    )
    maintained = demo.intervention(
        episode, "ost", titrated, None, medicine, maintenance, "Maintenance dose agreed with the prescriber."
    )
    course.ost.append(maintained)
    demo.arrangement(course, entry, 0, "start", "Supervised consumption to start with.")
    if course.story != "died" and course.end - entry > timedelta(days=200):
        demo.intervention(
            episode,
            "recovery_support",
            entry + timedelta(days=150),
            None,
            note="SMART Recovery and a peer mentor.",
        )
    set_up_story: Callable | None = {
        "dose_cut": _set_up_dose_cut,
        "ost_ended": _set_up_ost_ended,
        "missed_doses": _set_up_missed_doses,
        "relapse_signs": _set_up_relapse_signs,
    }.get(course.story)
    if set_up_story:
        set_up_story(demo, course, maintained)
    if course.end < demo.today:  # an exit, recorded by tell(): the reviews run up to it
        course.reviews_until = course.end
    else:  # still in treatment: its own moment is the only run of missed doses since its review
        course.steady = True


def _set_up_dose_cut(demo, course: Course, maintained: pm.Intervention) -> None:
    """Methadone 60 mg; the first review, 50 days ago, and the cut to 20 mg three weeks ago are recorded through
    the services. The history before the bulk write already knows the cut (contact notes after it read 20 mg):
    finish() takes it back out of the 60 mg row, for tell() to record."""
    cut = _ago(demo, 21)
    maintained.ended_on = cut
    course.ost.append(
        pm.Intervention(
            episode=course.episode, kind="ost", medicine=METHADONE, daily_dose_mg=Decimal(20), started_on=cut
        )
    )  # not written in bulk: tell() records it
    course.reviews_until = course.episode.entry_date
    course.plot.update(review=_ago(demo, 50), cut=cut, maintained=maintained)


def _set_up_ost_ended(demo, course: Course, maintained: pm.Intervention) -> None:
    """Buprenorphine 12 mg, reduced to 6 mg at the patient's request before the first review (held 100 days
    ago), then stopped nine days ago while keywork and recovery support go on: the episode stays open."""
    entry, ended = course.episode.entry_date, _ago(demo, 9)
    reduced = entry + timedelta(days=76)
    maintained.ended_on = reduced - timedelta(days=1)
    down = demo.intervention(
        course.episode,
        "ost",
        reduced,
        ended,  # as the history reads it; finish() takes the end out, for tell() to record
        BUPRENORPHINE,
        6,
        "Reduction at the patient's request: stable, and wants to come off.",
    )
    course.ost.append(down)
    review = _ago(demo, 100)
    demo.intervention(
        course.episode,
        "recovery_support",
        review + timedelta(days=7),
        None,
        note="SMART Recovery and a peer mentor.",
    )
    course.reviews_until = entry
    course.reports_until = ended - timedelta(days=1)  # nothing dispensed after OST ended
    course.plot.update(review=review, ended=ended, down=down)


def _set_up_missed_doses(demo, course: Course, maintained: pm.Intervention) -> None:
    """Methadone 70 mg; the first review, 60 days ago, is recorded through the services, and so are the last two
    pharmacy reports, with two missed doses at the end of one and two at the start of the next: the bulk load's
    reports stop a month ago."""
    course.reviews_until = course.episode.entry_date
    course.reports_until = _ago(demo, 30)
    course.plot["review"] = _ago(demo, 60)


def _set_up_relapse_signs(demo, course: Course, maintained: pm.Intervention) -> None:
    """Methadone, then a planned community detox in the last eight weeks before a drug-free completion."""
    detox = course.end - timedelta(days=56)
    maintained.ended_on = detox - timedelta(days=1)
    demo.intervention(course.episode, "detox", detox, None, note="Planned community detoxification.")
    course.reports_until = detox - timedelta(days=1)


def finish(demo, course: Course) -> None:
    """After the story's history is drawn, before it is written: the TOP at a review recorded through the
    services, the exit TOP of a planned exit, and the ends tell() records taken back out."""
    plot = course.plot
    if "review" in plot and not any(
        plot["review"] - timedelta(days=28) <= t.assessed_on <= plot["review"] for t in course.tops
    ):
        evidence.top(demo, course, plot["review"] - timedelta(days=2), pm.TopStage.REVIEW)
    if course.story in ("transferred", "relapse_signs"):
        evidence.top(demo, course, course.end, pm.TopStage.EXIT)
    for recorded_later in ("maintained", "down"):
        if recorded_later in plot:
            plot[recorded_later].ended_on = None


# --- The moment, recorded through the services (moments.py) ---------------------------------------------------


@contextmanager
def on_the_demos_day(today: date) -> Iterator[None]:
    """The services refuse a date in the future and stamp what they write with the time. The demo's today may
    be another day than the machine's (--today), so while the stories are recorded the clock reads the demo's
    today, at the machine's time of day."""
    if today == timezone.localdate():
        yield
        return
    machine_now = timezone.now

    def demo_now() -> datetime:
        return timezone.make_aware(datetime.combine(today, timezone.localtime(machine_now()).time()))

    with mock.patch.object(timezone, "now", demo_now):
        yield


def tell(demo) -> None:
    """Record each story's moment through the services, after the bulk load (and before the schedules are
    recomputed for the demo's today)."""
    with on_the_demos_day(demo.today):
        for told in demo.story_courses:
            moments.TELL[told.story](demo, told)
