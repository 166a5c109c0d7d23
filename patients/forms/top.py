"""The Treatment Outcomes Profile: every item, by section, laid out as a grid."""

from django import forms

from patients.forms.base import CellFieldsMixin, EpisodeForm, date_field
from patients.models import (
    TOP_DAYS_28,
    TOP_RATINGS,
    TOP_SUBSTANCES,
    TOP_WEEKS,
    TOP_YES_NO,
    TopAssessment,
    TopStage,
)
from patients.top_questionnaire import TOP_SUBSTANCE_LABELS

YES_NO_CHOICES = [("", "Not answered"), ("yes", "Yes"), ("no", "No")]


def _week_field(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=7,
        error_messages={
            "min_value": "Days in a week: 0 to 7.",
            "max_value": "Days in a week: 0 to 7.",
            "invalid": "A whole number of days, 0 to 7.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 7, "placeholder": "–", "inputmode": "numeric"}),
    )


def _bounded(label, top, help_text=""):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=top,
        help_text=help_text,
        error_messages={
            "min_value": f"0 to {top}.",
            "max_value": f"0 to {top}.",
            "invalid": f"A whole number, 0 to {top}.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": top, "placeholder": "not answered"}),
    )


def _yes_no(label):
    return forms.TypedChoiceField(
        label=label,
        required=False,
        choices=YES_NO_CHOICES,
        coerce=lambda v: v == "yes",
        empty_value=None,
    )


def _model_label(name: str) -> str:
    return TopAssessment._meta.get_field(name).verbose_name


class TopAssessmentForm(CellFieldsMixin, EpisodeForm):
    """Every item of the Treatment Outcomes Profile, by section. An empty box is 'not answered', which is kept
    apart from 0 all the way to the database and the charts."""

    assessed_on = date_field("Date of the assessment")
    stage = forms.ChoiceField(choices=TopStage.choices)
    other_substance_name = forms.CharField(
        label="Other problem substance (name)", required=False, max_length=100
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix, _wording, unit in TOP_SUBSTANCES:
            label = TOP_SUBSTANCE_LABELS[prefix]  # one name for each substance (docs/design.md, Domain)
            for week in TOP_WEEKS:
                self.fields[f"{prefix}_week{week}"] = _week_field(f"{label}, week {week}")
            self.fields[f"{prefix}_amount"] = forms.DecimalField(
                label=f"{label}: average {unit} on a using day",
                required=False,
                min_value=0,
                max_value=999,
                max_digits=6,
                decimal_places=1,
                error_messages={"max_value": "At most 999 a day: check the amount."},
                widget=forms.NumberInput(attrs={"min": 0, "step": "0.1", "placeholder": "–"}),
            )
        for name in TOP_DAYS_28:
            self.fields[name] = _bounded(_model_label(name), 28)
        for name in TOP_RATINGS:
            self.fields[name] = _bounded(_model_label(name), 20, "0 (poor) to 20 (good).")
        for name in TOP_YES_NO:
            self.fields[name] = _yes_no(_model_label(name))
        # The grid's inputs sit under column headers: each is named in full for a screen reader.
        for prefix, _wording, _unit in TOP_SUBSTANCES:
            for name in [f"{prefix}_week{w}" for w in TOP_WEEKS] + [f"{prefix}_amount"]:
                self.fields[name].widget.attrs["aria-label"] = self.fields[name].label
        self.style_fields()

    # Names for the template, section by section.
    substances = TOP_SUBSTANCES
    weeks = TOP_WEEKS

    def substance_rows(self):
        for prefix, wording, unit in TOP_SUBSTANCES:
            yield {
                "prefix": prefix,
                "label": TOP_SUBSTANCE_LABELS[prefix],
                "wording": wording,  # the TOP form's own words for the item
                "unit": unit,
                "weeks": [self[f"{prefix}_week{w}"] for w in TOP_WEEKS],
                "amount": self[f"{prefix}_amount"],
            }

    def section(self, *names):
        return [self[name] for name in names]

    def injecting(self):
        return self.section("injecting_days", "shared_needle", "shared_paraphernalia")

    def crime(self):
        return self.section(
            "shoplifting_days",
            "drug_selling_days",
            "theft_from_vehicle",
            "theft_other_property",
            "fraud_forgery_handling",
            "assault_violence",
        )

    def health(self):
        return self.section(
            "psychological_health",
            "physical_health",
            "quality_of_life",
            "paid_work_days",
            "education_days",
            "acute_housing_problem",
            "eviction_risk",
        )

    def clean_assessed_on(self):
        return self._check_date("assessed_on")

    def item_names(self) -> list[str]:
        return [n for n in self.fields if n not in ("assessed_on", "stage", "other_substance_name")]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if all(data.get(name) is None for name in self.item_names()):
            raise forms.ValidationError(
                "Nothing is answered. Record the answers the patient gave; leave a box empty only when that "
                "question was not answered."
            )
        for prefix, _label, _unit in TOP_SUBSTANCES:
            weeks = [data.get(f"{prefix}_week{w}") for w in TOP_WEEKS]
            amount = data.get(f"{prefix}_amount")
            if amount and all(w == 0 for w in weeks):
                self.add_error(
                    f"{prefix}_amount",
                    "No days of use in the four weeks, so there is no amount on a using day: leave it empty.",
                )
        other_used = any(data.get(f"other_week{w}") for w in TOP_WEEKS) or data.get("other_amount")
        if other_used and not data.get("other_substance_name", "").strip():
            self.add_error("other_substance_name", "Name the other problem substance whose use is recorded.")
        if data.get("injecting_days") == 0:
            for name in ("shared_needle", "shared_paraphernalia"):
                if data.get(name):
                    self.add_error(
                        name, "No days of injecting are recorded, so this cannot be yes: check both answers."
                    )
        return data

    def answers(self) -> dict:
        d = self.cleaned_data
        answers = {name: d.get(name) for name in self.item_names()}
        answers["other_substance_name"] = d.get("other_substance_name", "").strip()
        return answers
