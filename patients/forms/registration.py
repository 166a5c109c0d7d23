"""Who the patient is and who looks after them: registering (the patient and their first episode together), moving
to another keyworker, lead practitioner or team, handing over a caseload, and correcting details."""

from django import forms
from django.utils import timezone

from patients.forms.base import date_field
from patients.forms.treatment import _EpisodeStartFields
from patients.validators import normalise_nhs_number, validate_nhs_number
from recovery_reviews.access import teams_for_user
from recovery_reviews.models import Role, Team, User


class _StaffChoiceField(forms.ModelChoiceField):
    """Staff named with their team when the person choosing works across teams, and marked when they have left."""

    def __init__(self, *args, with_team: bool = False, **kwargs):
        self.with_team = with_team
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user):
        left = "" if user.is_active else "no longer active"
        if self.with_team:
            return f"{user} ({user.team}{', ' + left if left else ''})"
        return f"{user} ({left})" if left else str(user)


class _PatientFields(forms.Form):
    """Who the patient is, as registered and as corrected."""

    given_name = forms.CharField(
        label="Given name", max_length=100, error_messages={"required": "Give the patient's given name."}
    )
    family_name = forms.CharField(
        label="Family name", max_length=100, error_messages={"required": "Give the patient's family name."}
    )
    date_of_birth = date_field("Date of birth")
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=16,
        required=False,
        validators=[validate_nhs_number],
        help_text="Optional but strongly advised: it is how a second registration of the same person is caught. "
        "Spaces are fine, as in 943 476 5919.",
    )

    def clean_date_of_birth(self):
        day = self.cleaned_data["date_of_birth"]
        if day > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if day.year < 1900:
            raise forms.ValidationError("Check the year: a date of birth before 1900 cannot be right.")
        return day

    def clean_nhs_number(self):
        return normalise_nhs_number(self.cleaned_data["nhs_number"])


class PatientRegisterForm(_PatientFields, _EpisodeStartFields):
    """Someone entering treatment with the service: who they are, who looks after them, and the episode that
    starts their review schedule. Saved together, or not at all."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None)
    keyworker = _StaffChoiceField(
        queryset=None, error_messages={"required": "Choose the patient's keyworker."}
    )
    different_person = forms.BooleanField(
        label="This is a different person from the patient already registered with the same name and date of birth",
        required=False,
    )

    field_order = [
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "team",
        "keyworker",
        "lead_practitioner",
        "entry_date",
        "primary_drug",
        "other_substances",
        "co_morbidities",
        "different_person",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = teams_for_user(user)
        team_ids = [team.pk for team in teams]
        several = len(team_ids) > 1
        staff = User.objects.filter(team_id__in=team_ids, is_active=True).select_related("team")
        self.fields["team"].queryset = teams
        self.fields["keyworker"] = _StaffChoiceField(
            queryset=staff.filter(role=Role.KEYWORKER),
            with_team=several,
            error_messages=self.fields["keyworker"].error_messages,
        )
        self.fields["lead_practitioner"] = _StaffChoiceField(
            queryset=staff.filter(role=Role.SENIOR_PRACTITIONER),
            with_team=several,
            required=False,
            label="Lead practitioner",
            help_text=self.fields["lead_practitioner"].help_text,
        )
        if user.role == Role.KEYWORKER:
            self.fields["keyworker"].initial = user.pk
        if user.team_id in team_ids:
            self.fields["team"].initial = user.team_id
        if not self.data.get("different_person"):
            self.fields["different_person"].widget = forms.HiddenInput()

    def ask_about_a_namesake(self) -> None:
        """Show the confirmation, which stays hidden until a namesake has been found."""
        self.fields["different_person"].widget = forms.CheckboxInput()

    def clean(self):
        data = super().clean()
        team = data.get("team")
        for name in ("keyworker", "lead_practitioner"):
            person = data.get(name)
            if team and person and person.team_id != team.pk:
                self.add_error(
                    name,
                    f"{person} works in {person.team}: choose someone in {team}, or choose {person.team}.",
                )
        born, entered = data.get("date_of_birth"), data.get("entry_date")
        if born and entered and entered < born:
            self.add_error("entry_date", "This is before the patient's date of birth: check both dates.")
        return data


class PatientMoveForm(forms.Form):
    """A new keyworker, lead practitioner or team for a patient, with the reason."""

    team = forms.ModelChoiceField(queryset=None, empty_label=None)
    keyworker = _StaffChoiceField(queryset=None)
    lead_practitioner = _StaffChoiceField(
        queryset=None,
        required=False,
        empty_label="(as it is)",
        label="Lead practitioner",
        help_text="The senior practitioner who leads this patient's strategic reviews (§2.5).",
    )
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why: the next keyworker and any later review will want to know."},
        help_text="For example: the keyworker has left; the patient has moved to the South area.",
    )

    def __init__(self, *args, user, patient, episode, **kwargs):
        super().__init__(*args, **kwargs)
        teams = teams_for_user(user) if user.role == Role.MANAGER else Team.objects.filter(pk=patient.team_id)
        team_ids = list(teams.values_list("pk", flat=True))
        several = len(team_ids) > 1
        staff = User.objects.filter(team_id__in=team_ids, is_active=True).select_related("team")
        self.fields["team"].queryset = teams
        self.fields["keyworker"].queryset = staff.filter(role=Role.KEYWORKER)
        self.fields["keyworker"].with_team = several
        if episode is None:
            del self.fields["lead_practitioner"]  # no open episode: no strategic reviews to lead
        else:
            self.fields["lead_practitioner"].queryset = staff.filter(role=Role.SENIOR_PRACTITIONER)
            self.fields["lead_practitioner"].with_team = several
        if not several:
            self.fields["team"].disabled = True  # a senior practitioner moves patients within their team
        self.initial.setdefault("team", patient.team_id)
        self.initial.setdefault("keyworker", patient.keyworker_id)
        if episode is not None:
            self.initial.setdefault("lead_practitioner", episode.lead_practitioner_id)


class CaseloadHandoverForm(forms.Form):
    """Every patient of one keyworker in a team, to another keyworker of that team."""

    from_keyworker = _StaffChoiceField(queryset=None, label="From", with_team=True)
    to_keyworker = _StaffChoiceField(queryset=None, label="To", with_team=True)
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why: the next keyworker and any later review will want to know."},
        help_text="Kept on each patient's timeline. For example: Tom has left the service.",
    )

    def __init__(self, *args, team_ids, **kwargs):
        super().__init__(*args, **kwargs)
        keyworkers = (
            User.objects.filter(role=Role.KEYWORKER, team_id__in=team_ids)
            .select_related("team")
            .order_by("team__name", "last_name", "first_name")
        )
        self.fields["from_keyworker"].queryset = keyworkers
        self.fields["to_keyworker"].queryset = keyworkers.filter(is_active=True)

    def clean(self):
        data = super().clean()
        giver, taker = data.get("from_keyworker"), data.get("to_keyworker")
        if giver and taker and giver.team_id != taker.team_id:
            self.add_error(
                "to_keyworker", f"{taker} works in {taker.team}: choose a keyworker in {giver.team}."
            )
        return data


class DetailsCorrectionForm(_PatientFields, _EpisodeStartFields):
    """The patient's details and their episode's, to correct; each change is kept with the reason."""

    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, for example: the date of entry was mistyped at registration."},
        help_text="Kept with each change, on the timeline.",
    )

    field_order = [
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "entry_date",
        "primary_drug",
        "other_substances",
        "co_morbidities",
        "reason",
    ]

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["lead_practitioner"]  # changed with the care team, not as a correction
        if episode is None:
            for name in ("entry_date", "primary_drug", "other_substances", "co_morbidities"):
                del self.fields[name]
        else:
            self.fields["entry_date"].help_text = "Correcting it moves the first strategic review (§1.3)."
