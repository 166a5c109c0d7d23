"""A patient's record as a FHIR R4 Bundle (docs/design.md, Interoperability): pure functions from the records read
by interop.fhir.selectors to plain dicts, ready for JSON. No database (every record is already in hand), no
network, no clock: `today` and the moment of the export are passed in.

The bundle is of type "collection": a set of resources sent together, with no Composition to make it a clinical
document and no search behind it. Each resource claims its UK Core profile where UK Core has one (codes.PROFILED).
References between resources are the urn:uuid fullUrls of the entries, each a stable id of the record it comes
from (codes.resource_id).

What goes in, and as what:
- Patient: the NHS number (https://fhir.nhs.uk/Id/nhs-number) when recorded, name and date of birth; the team as
  the managing Organization and the staff named in the record as Practitioners (name only).
- EpisodeOfCare: each treatment episode, entry to exit, its keyworker as care manager.
- MedicationStatement: each opioid substitution treatment, its medicine, daily dose in mg (UCUM) and route, and
  the episode's dispensing arrangements in its period as notes.
- CarePlan and Goal: the recovery care plan, each goal (its core domain, progress and target date) and each
  action as an activity of the plan.
- Encounter: keyworker appointments, strategic reviews and recovery check-ups (after exit or after an element).
- Observation: each answered item of each Treatment Outcomes Profile (TOP), coded in the product's own code
  system, with its stage as a component; an item left unanswered is not sent (it is not zero).
- Appointment (status proposed): each review or check-up the episode owes, as owed_item_appointment below
  explains.
- CodeSystem: the product's own code systems, so that every code the bundle uses is defined in it.
"""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from interop.fhir import codes
from interop.fhir.codes import coding, concept, profile, reference, resource_id
from patients.models import TOP_SUBSTANCES, TOP_WEEKS, AppointmentStatus, DispensingArrangement, TopAssessment
from patients.top_questionnaire import TOP_ITEMS
from reviews.models import CheckUpOutcome, ReviewStatus

AMBULATORY = coding(codes.ACT_CODE, "AMB", "ambulatory")


def patient_bundle(record, *, today: date, generated_at: datetime) -> dict:
    """The whole record of `record.patient` (an interop.fhir.selectors.PatientRecord) as a Bundle."""
    episodes = {episode.pk: episode for episode in record.episodes}
    resources = [patient_resource(record.patient)]
    resources += organizations(record)
    resources += practitioners(record)
    resources += [episode_of_care(episode, record.patient) for episode in record.episodes]
    resources += [
        medication_statement(ost, episodes[ost.episode_id], record, today=today) for ost in record.ost
    ]
    owed = [item for item in record.owed if item.kind in codes.CONTACT_KINDS]
    resources += [care_plan(plan, episodes[plan.episode_id], record, owed) for plan in record.care_plans]
    resources += [goal_resource(goal, record.patient) for goal in record.goals]
    resources += [
        appointment_encounter(a, episodes[a.episode_id], record.patient) for a in record.appointments
    ]
    resources += [review_encounter(r, episodes[r.episode_id], record.patient) for r in record.reviews]
    resources += [
        check_up_encounter(c, episodes[c.episode_id], record.patient, codes.RECOVERY_CHECK_UP_KIND)
        for c in record.check_ups
    ]
    resources += [
        check_up_encounter(c, episodes[c.episode_id], record.patient, codes.ELEMENT_CHECK_UP_KIND)
        for c in record.element_check_ups
    ]
    for top in record.tops:
        resources += top_observations(top, record.patient)
    resources += [owed_item_appointment(item, episodes[item.episode_id], record.patient) for item in owed]
    resources += codes.code_systems()
    return {
        "resourceType": "Bundle",
        "id": resource_id("Bundle", f"{record.patient.pk}/{generated_at.isoformat()}"),
        **profile("Bundle"),
        "type": "collection",
        "timestamp": _instant(generated_at),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


# --- Who -------------------------------------------------------------------------------------------------------


def _name(user) -> str:
    return user.get_full_name() or user.username


def _patient_ref(patient) -> dict:
    return reference("Patient", patient.pk, str(patient))


def _staff_ref(user) -> dict:
    return reference("Practitioner", user.pk, _name(user))


def _team_ref(team) -> dict:
    return reference("Organization", team.pk, team.name)


def patient_resource(patient) -> dict:
    resource = {"resourceType": "Patient", "id": resource_id("Patient", patient.pk), **profile("Patient")}
    if patient.nhs_number:
        resource["identifier"] = [{"system": codes.NHS_NUMBER_SYSTEM, "value": patient.nhs_number}]
    name = {"use": "official", "family": patient.family_name, "given": [patient.given_name]}
    resource["name"] = [{key: value for key, value in name.items() if value and value != [""]}]
    resource["birthDate"] = patient.date_of_birth.isoformat()
    resource["managingOrganization"] = _team_ref(patient.team)
    return resource


def organizations(record) -> list[dict]:
    teams = {record.patient.team_id: record.patient.team}
    teams.update({e.team_id: e.team for e in record.episodes if e.team_id})
    return [
        {
            "resourceType": "Organization",
            "id": resource_id("Organization", pk),
            **profile("Organization"),
            "active": True,
            "name": team.name,
        }
        for pk, team in sorted(teams.items())
    ]


def _human_name(user) -> dict:
    name = {"text": _name(user), "family": user.last_name or user.username}
    if user.first_name:
        name["given"] = [user.first_name]
    return name


def practitioners(record) -> list[dict]:
    """Everyone the record names as acting in the patient's care, once each: name only (no contact details)."""
    people = [record.patient.keyworker]
    people += [e.keyworker for e in record.episodes if e.keyworker_id]
    people += [e.lead_practitioner for e in record.episodes if e.lead_practitioner_id]
    people += [a.keyworker for a in record.appointments]
    people += [r.lead for r in record.reviews]
    people += [t.recorded_by for t in record.tops]
    people += [c.held_by for c in [*record.check_ups, *record.element_check_ups]]
    by_pk = {user.pk: user for user in people}
    return [
        {
            "resourceType": "Practitioner",
            "id": resource_id("Practitioner", pk),
            **profile("Practitioner"),
            "name": [_human_name(user)],
        }
        for pk, user in sorted(by_pk.items())
    ]


# --- Treatment -------------------------------------------------------------------------------------------------


def _period(start: date, end: date | None) -> dict:
    period = {"start": start.isoformat()}
    if end:
        period["end"] = end.isoformat()
    return period


def _episode_ref(episode) -> dict:
    return reference("EpisodeOfCare", episode.pk)


def episode_of_care(episode, patient) -> dict:
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": resource_id("EpisodeOfCare", episode.pk),
        **profile("EpisodeOfCare"),
        "status": "active" if episode.exit_date is None else "finished",
        "type": [{"text": "Structured treatment for drug or alcohol use"}],
        "patient": _patient_ref(patient),
        "managingOrganization": _team_ref(episode.team or patient.team),
        "period": _period(episode.entry_date, episode.exit_date),
    }
    keyworker = episode.keyworker if episode.keyworker_id else patient.keyworker
    resource["careManager"] = _staff_ref(keyworker)
    return resource


def _number(value: Decimal):
    """A decimal as a JSON number, whole numbers without a fraction."""
    return int(value) if value == value.to_integral_value() else float(value)


def _dispensing_note(arrangement: DispensingArrangement) -> dict:
    return {
        "time": arrangement.effective_from.isoformat(),
        "text": f"Dispensing from {arrangement.effective_from.isoformat()}: {arrangement} "
        f"({arrangement.get_change_reason_display()})",
    }


def medication_statement(ost, episode, record, *, today: date) -> dict:
    """One opioid substitution treatment: its medicine, daily dose and route, and the dispensing arrangements
    of its episode that were in force at some time during it."""
    dose = _number(ost.daily_dose_mg)
    route_code, route_name = codes.OST_ROUTES[ost.medicine]
    resource = {
        "resourceType": "MedicationStatement",
        "id": resource_id("MedicationStatement", ost.pk),
        **profile("MedicationStatement"),
        "status": "active" if ost.ended_on is None or ost.ended_on >= today else "completed",
        "category": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                    "community",
                    "Community",
                )
            ]
        },
        "medicationCodeableConcept": concept(codes.OST_MEDICINE, ost.medicine, ost.get_medicine_display()),
        "subject": _patient_ref(record.patient),
        "context": _episode_ref(episode),
        "effectivePeriod": _period(ost.started_on, ost.ended_on),
        "dosage": [
            {
                "text": f"{dose} mg daily",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "route": concept(codes.SNOMED_CT, route_code, route_name),
                "doseAndRate": [
                    {"doseQuantity": {"value": dose, "unit": "mg", "system": codes.UCUM, "code": "mg"}}
                ],
            }
        ],
    }
    notes = [
        _dispensing_note(a)
        for a in record.dispensing
        if a.episode_id == ost.episode_id
        and (ost.ended_on is None or a.effective_from <= ost.ended_on)
        and (a.ended_on is None or a.ended_on >= ost.started_on)
    ]
    if notes:
        resource["note"] = notes
    return resource


# --- The care plan ---------------------------------------------------------------------------------------------

GOAL_LIFECYCLE = {"achieved": "completed", "no_longer_relevant": "cancelled"}
# HL7's goal-achievement codes where one says the same as the product's progress; the product's own code always.
GOAL_ACHIEVEMENT = {
    "some_progress": ("improving", "Improving"),
    "good_progress": ("improving", "Improving"),
    "achieved": ("achieved", "Achieved"),
}


def goal_resource(goal, patient) -> dict:
    progress = [coding(codes.GOAL_PROGRESS, goal.progress, goal.get_progress_display())]
    if goal.progress in GOAL_ACHIEVEMENT:
        progress.append(coding(codes.GOAL_ACHIEVEMENT, *GOAL_ACHIEVEMENT[goal.progress]))
    resource = {
        "resourceType": "Goal",
        "id": resource_id("Goal", goal.pk),
        "lifecycleStatus": GOAL_LIFECYCLE.get(goal.progress, "active"),
        "achievementStatus": {"coding": progress, "text": goal.get_progress_display()},
        "category": [concept(codes.CORE_DOMAIN, goal.domain, goal.get_domain_display())],
        "description": {"text": goal.description},
        "subject": _patient_ref(patient),
    }
    if goal.target_date:
        resource["target"] = [{"dueDate": goal.target_date.isoformat()}]
    if goal.self_managed:
        resource["note"] = [{"text": "The patient manages this goal themselves."}]
    return resource


def _action_activity(action, patient) -> dict:
    status = "scheduled" if action.target_date else "not-started"
    if action.completed_on:
        status = "completed"
    if action.owner == "patient":
        performer = _patient_ref(patient)
    else:
        performer = {"display": action.owner_name or action.get_owner_display()}
    detail = {
        "status": status,
        "description": action.description,
        "goal": [reference("Goal", action.goal_id)],
        "performer": [performer],
    }
    if action.target_date:
        detail["scheduledPeriod"] = {"end": action.target_date.isoformat()}
    if action.completed_on:
        detail["statusReason"] = {"text": f"Completed on {action.completed_on.isoformat()}"}
    return {"detail": detail}


def care_plan(plan, episode, record, owed) -> dict:
    goals = [goal for goal in record.goals if goal.care_plan_id == plan.pk]
    goal_ids = {goal.pk for goal in goals}
    activities = [_action_activity(a, record.patient) for a in record.actions if a.goal_id in goal_ids]
    # The reviews and check-ups the episode owes are activities of its plan, each the proposed Appointment that
    # carries its dates (owed_item_appointment).
    activities += [
        {"reference": reference("Appointment", item.pk, codes.CONTACT_KINDS[item.kind])}
        for item in owed
        if item.episode_id == episode.pk
    ]
    resource = {
        "resourceType": "CarePlan",
        "id": resource_id("CarePlan", plan.pk),
        **profile("CarePlan"),
        "status": "active" if episode.exit_date is None else "completed",
        "intent": "plan",
        "title": "Recovery care plan",
        "subject": _patient_ref(record.patient),
        "period": _period(plan.agreed_on, episode.exit_date),
        "created": plan.agreed_on.isoformat(),
        "goal": [reference("Goal", goal.pk) for goal in goals],
    }
    if activities:
        resource["activity"] = activities
    return resource


def owed_item_appointment(item, episode, patient) -> dict:
    """A review or check-up the episode owes, as an Appointment with status "proposed" and its target and
    deadline as the requested period: that is what it is, a meeting to be arranged within those dates and not
    yet booked, and an Appointment is what a receiving system's diary reads. (A CarePlan activity's
    scheduledPeriod would say the same only where a care plan exists; the plan's activity refers to this
    Appointment instead.) The scheduling policy's reasons for the dates go in reasonCode, as text."""
    label = codes.CONTACT_KINDS[item.kind]
    resource = {
        "resourceType": "Appointment",
        "id": resource_id("Appointment", item.pk),
        **profile("Appointment"),
        "status": "proposed",
        "serviceType": [concept(codes.CONTACT_KIND, item.kind, label)],
        "description": label,
        "supportingInformation": [_episode_ref(episode)],
        "requestedPeriod": [_period(item.target, item.deadline)],
        "participant": [{"actor": _patient_ref(patient), "required": "required", "status": "needs-action"}],
    }
    if item.reasons:
        resource["reasonCode"] = [{"text": str(reason)} for reason in item.reasons]
    if item.element_end:
        resource["comment"] = f"After the element of treatment that ended on {item.element_end.isoformat()}."
    keyworker = episode.keyworker if episode.keyworker_id else patient.keyworker
    resource["participant"].append(
        {"actor": _staff_ref(keyworker), "required": "required", "status": "needs-action"}
    )
    return resource


# --- Contacts --------------------------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    AppointmentStatus.BOOKED: "planned",
    AppointmentStatus.ATTENDED: "finished",
    # Did not attend: the encounter ended before it began, which is FHIR R4's "cancelled" for an Encounter.
    AppointmentStatus.MISSED: "cancelled",
    AppointmentStatus.CANCELLED: "cancelled",
}


def _encounter(kind: str, pk, *, status: str, episode, patient, start: str, end: str = "", who=None) -> dict:
    period = {"start": start}
    if end:
        period["end"] = end
    resource = {
        "resourceType": "Encounter",
        "id": resource_id(f"Encounter/{kind}", pk),
        **profile("Encounter"),
        "status": status,
        "class": AMBULATORY,
        "type": [concept(codes.CONTACT_KIND, kind, codes.CONTACT_KINDS[kind])],
        "subject": _patient_ref(patient),
        "episodeOfCare": [_episode_ref(episode)],
        "period": period,
        "serviceProvider": _team_ref(episode.team or patient.team),
    }
    if who is not None:
        resource["participant"] = [{"individual": _staff_ref(who)}]
    return resource


def _instant(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def appointment_encounter(appointment, episode, patient) -> dict:
    return _encounter(
        codes.KEYWORKER_APPOINTMENT,
        appointment.pk,
        status=APPOINTMENT_STATUS[appointment.status],
        episode=episode,
        patient=patient,
        start=_instant(appointment.starts_at),
        who=appointment.keyworker,
    )


def review_encounter(review, episode, patient) -> dict:
    """A strategic review: finished once completed; in progress while drafted or waiting for the patient's
    involvement (§2.4: it is not complete until the patient has taken part)."""
    completed = review.status == ReviewStatus.COMPLETED
    return _encounter(
        codes.STRATEGIC_REVIEW_KIND,
        review.pk,
        status="finished" if completed else "in-progress",
        episode=episode,
        patient=patient,
        start=review.held_on.isoformat(),
        end=review.completed_on.isoformat() if completed and review.completed_on else "",
        who=review.lead,
    )


def check_up_encounter(check_up, episode, patient, kind: str) -> dict:
    """A recovery check-up; an attempt that could not reach the patient is an encounter that did not happen."""
    return _encounter(
        kind,
        check_up.pk,
        status="cancelled" if check_up.outcome == CheckUpOutcome.NOT_REACHED else "finished",
        episode=episode,
        patient=patient,
        start=check_up.held_on.isoformat(),
        who=check_up.held_by,
    )


# --- The Treatment Outcomes Profile ----------------------------------------------------------------------------

SURVEY = {"coding": [coding(codes.OBSERVATION_CATEGORY, "survey", "Survey")]}
UNITS = {
    "days": ("days", "d"),
    "grams": ("grams", "g"),
}  # UCUM where the unit has a code; else the unit's name


def _quantity(value, unit: str) -> dict:
    quantity = {"value": _number(Decimal(value)), "unit": UNITS.get(unit, (unit, ""))[0]}
    if unit in UNITS:
        quantity.update({"system": codes.UCUM, "code": UNITS[unit][1]})
    return quantity


def _amount_unit(item_key: str) -> str:
    prefix = item_key.removesuffix("_amount")
    return next(unit for p, _label, unit in TOP_SUBSTANCES if p == prefix)


def _top_value(item, value) -> dict:
    if item.scale == "yes_no":
        return {"valueBoolean": bool(value)}
    if item.scale == "rating":
        return {"valueInteger": int(value)}
    if item.scale == "amount":
        return {"valueQuantity": _quantity(value, _amount_unit(item.key))}
    return {"valueQuantity": _quantity(value, "days")}


def top_observations(top: TopAssessment, patient) -> list[dict]:
    """One Observation for each answered item of one TOP, its stage a component; unanswered items are left out."""
    stage = {
        "code": concept(codes.TOP_ITEM, codes.TOP_STAGE_COMPONENT, "TOP stage"),
        "valueCodeableConcept": concept(codes.TOP_STAGE, top.stage, top.get_stage_display()),
    }
    observations = []
    for item in TOP_ITEMS:
        value = item.value(top)
        if value is None:
            continue
        components = [stage]
        if item.key.endswith("_days_used"):
            prefix = item.key.removesuffix("_days_used")
            components += [
                {
                    "code": concept(
                        codes.TOP_ITEM, f"{prefix}_week{w}", codes.TOP_WEEK_LABELS[f"{prefix}_week{w}"]
                    ),
                    "valueQuantity": _quantity(getattr(top, f"{prefix}_week{w}"), "days"),
                }
                for w in TOP_WEEKS
            ]
        if item.key.startswith("other_") and top.other_substance_name:
            components.append(
                {
                    "code": concept(codes.TOP_ITEM, codes.OTHER_SUBSTANCE_NAME, "Other problem substance"),
                    "valueString": top.other_substance_name,
                }
            )
        observations.append(
            {
                "resourceType": "Observation",
                "id": resource_id(f"Observation/{item.key}", top.pk),
                **profile("Observation"),
                "status": "final",
                "category": [SURVEY],
                "code": concept(codes.TOP_ITEM, item.key, item.label),
                "subject": _patient_ref(patient),
                "effectiveDateTime": top.assessed_on.isoformat(),
                "performer": [_staff_ref(top.recorded_by)],
                **_top_value(item, value),
                "component": components,
            }
        )
    return observations
