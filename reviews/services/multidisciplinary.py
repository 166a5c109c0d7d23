"""The multidisciplinary team at the review of a high-risk patient (§2.2, §2.6): where the record puts the risk
high (reviews/risk.py, docs/design.md, Risk level and disengagement), a full multidisciplinary and multi-agency
review may be appropriate, so completing the review needs someone beyond the lead, the keyworker and the patient
among its participants, or the reason they were not involved."""

from collections.abc import Iterable
from datetime import date

from django.utils import timezone

from patients.models import TreatmentEpisode
from reviews.models import ParticipantRole
from reviews.risk_selectors import episode_risk

# §2.6's "other relevant people" who make a review multidisciplinary or multi-agency: the team's psychologists,
# nurses, doctors and recovery workers, the extended team (pharmacists, social workers) and other agencies.
# Family and employers give perspectives (§2.8) but are not a discipline or an agency.
MULTIDISCIPLINARY_ROLES = frozenset(
    {
        ParticipantRole.DOCTOR,
        ParticipantRole.NURSE,
        ParticipantRole.PSYCHOLOGIST,
        ParticipantRole.RECOVERY_WORKER,
        ParticipantRole.PHARMACIST,
        ParticipantRole.SOCIAL_WORKER,
        ParticipantRole.PROBATION,
        ParticipantRole.OTHER_AGENCY,
    }
)


def multidisciplinary_errors(
    *, episode: TreatmentEpisode, participants: Iterable[dict], reason: str, today: date | None = None
) -> dict:
    """The message beside the reason when the patient's risk is high today and neither a participant in a
    multidisciplinary role nor the reason they were not involved is given; {} otherwise. Two queries."""
    if reason.strip() or any(p.get("role") in MULTIDISCIPLINARY_ROLES for p in participants):
        return {}
    risk = episode_risk(episode, today=today or timezone.localdate())
    if not risk.is_high:
        return {}
    why = "; ".join(r.text for r in risk.reasons)
    return {
        "multidisciplinary_reason": (
            f"The patient's risk is high ({why}): add a participant from the multidisciplinary team or another "
            "agency (a doctor, nurse, psychologist, recovery worker, pharmacist, social worker, probation or "
            "another agency's worker), or say here why none was involved (§2.2, §2.6)."
        )
    }
