"""Every form of the clinical record, by sub-domain: base (what they share), treatment (appointments, changes of
treatment, an episode's end and a new one), top (the Treatment Outcomes Profile), evidence (drug tests, pharmacy
reports, the prescriber told, entered in error) and registration (the patient and their care team). The
caseload's filters belong to the caseload page, in the top layer (recovery_reviews/pages/forms.py).
`from patients import forms; forms.XForm` and `from patients.forms import XForm` read them all from here."""

from patients.forms.base import DATE, CellFieldsMixin, EpisodeForm, date_field
from patients.forms.evidence import (
    BLANK_ROWS,
    BaseResultFormSet,
    DrugTestForm,
    DrugTestResultForm,
    DrugTestResultFormSet,
    EnteredInErrorForm,
    MissedDatesField,
    PharmacyReportForm,
    PrescriberInformedForm,
    prescribed_substances,
    result_rows_initial,
)
from patients.forms.registration import (
    CaseloadHandoverForm,
    DetailsCorrectionForm,
    PatientMoveForm,
    PatientRegisterForm,
)
from patients.forms.top import YES_NO_CHOICES, TopAssessmentForm
from patients.forms.treatment import (
    AppointmentForm,
    AppointmentOutcomeForm,
    CircumstanceForm,
    DispensingChangeForm,
    EndForm,
    EpisodeExitForm,
    EpisodeOpenForm,
    InterventionForm,
)

__all__ = [
    "BLANK_ROWS",
    "DATE",
    "YES_NO_CHOICES",
    "AppointmentForm",
    "AppointmentOutcomeForm",
    "BaseResultFormSet",
    "CaseloadHandoverForm",
    "CellFieldsMixin",
    "CircumstanceForm",
    "DetailsCorrectionForm",
    "DispensingChangeForm",
    "DrugTestForm",
    "DrugTestResultForm",
    "DrugTestResultFormSet",
    "EndForm",
    "EnteredInErrorForm",
    "EpisodeExitForm",
    "EpisodeForm",
    "EpisodeOpenForm",
    "InterventionForm",
    "MissedDatesField",
    "PatientMoveForm",
    "PatientRegisterForm",
    "PharmacyReportForm",
    "PrescriberInformedForm",
    "TopAssessmentForm",
    "date_field",
    "prescribed_substances",
    "result_rows_initial",
]
