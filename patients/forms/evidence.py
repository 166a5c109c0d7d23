"""Evidence besides the TOP: drug tests with their results, pharmacy reports with the doses missed, the prescriber
told of a run of missed doses, and the reason a record is marked entered in error."""

from datetime import date

from django import forms
from django.utils import timezone

from patients.forms.base import CellFieldsMixin, EpisodeForm, date_field
from patients.models import OPIOID_SUBSTITUTES, InterventionKind, Substance, TestMethod, TestResult

# --- Drug tests -----------------------------------------------------------------------------------------------


class DrugTestForm(EpisodeForm):
    taken_on = date_field("Date the sample was taken")
    method = forms.ChoiceField(choices=TestMethod.choices, initial=TestMethod.ORAL_FLUID)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_taken_on(self):
        return self._check_date("taken_on")


class DrugTestResultForm(CellFieldsMixin, forms.Form):
    """One substance of the sample. A row without a result is not part of the test."""

    substance = forms.ChoiceField(choices=[("", "—"), *Substance.choices], required=False)
    result = forms.ChoiceField(choices=[("", "Not tested"), *TestResult.choices], required=False)
    expected_because_prescribed = forms.BooleanField(label="Prescribed", required=False)

    def clean(self):
        data = super().clean()
        if data.get("result") and not data.get("substance"):
            self.add_error("substance", "Choose the substance this result is for.")
        if data.get("expected_because_prescribed") and not data.get("result"):
            self.add_error("result", "Give the result, or untick 'prescribed'.")
        return data


class BaseResultFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        """Each row's fields named after their row ("Substance, row 2"): in the error summary and for a screen
        reader every answer says which row it is (the template gives each the same words as its label)."""
        super().add_fields(form, index)
        if index is not None:
            for name, words in ROW_LABELS.items():
                form.fields[name].label = words.format(row=index + 1)

    def clean(self):
        if any(self.errors):
            return
        seen = {}
        for form in self.forms:
            substance, result = form.cleaned_data.get("substance"), form.cleaned_data.get("result")
            if not result:
                continue
            if substance in seen:
                form.add_error("substance", "This substance already has a result in this test.")
            seen[substance] = form
        if not seen:
            raise forms.ValidationError("Give the result for at least one substance.")

    def results(self) -> list[dict]:
        return [
            {
                "substance": f.cleaned_data["substance"],
                "result": f.cleaned_data["result"],
                "expected_because_prescribed": f.cleaned_data["expected_because_prescribed"],
            }
            for f in self.forms
            if f.cleaned_data.get("result")
        ]


# A row's labels: visibly "Substance", "Result", "Prescribed", with the row named for a screen reader.
ROW_LABELS = {
    "substance": "Substance, row {row}",
    "result": "Result for row {row}",
    "expected_because_prescribed": "Prescribed, row {row}",
}

DrugTestResultFormSet = forms.formset_factory(
    DrugTestResultForm, formset=BaseResultFormSet, extra=0, max_num=20
)

BLANK_ROWS = 2  # rows left empty for a substance not on the record


def result_rows_initial(own: list[str], prescribed: set[str]) -> list[dict]:
    """The rows the form starts with (docs/design.md, Domain): the opioid substitute prescribed now, ticked as
    expected to be present, then each of the patient's own substances (patients/selectors/substances.py: the
    episode's problem substances and those a recent test found), then BLANK_ROWS empty rows for others."""
    medicines = [str(s) for s in OPIOID_SUBSTITUTES if s in prescribed]
    rows = [{"substance": s, "expected_because_prescribed": True} for s in medicines]
    rows += [{"substance": s, "expected_because_prescribed": False} for s in own if s not in medicines]
    return rows + [{} for _ in range(BLANK_ROWS)]


def prescribed_substances(interventions, on: date) -> set[str]:
    return {i.medicine for i in interventions if i.kind == InterventionKind.OST and i.is_current(on)} & {
        str(s) for s in OPIOID_SUBSTITUTES
    }


# --- Pharmacy reports -----------------------------------------------------------------------------------------


def _parse_day(token: str) -> date:
    if "/" in token:
        day, month, year = token.split("/")
        year = int(year)
        return date(year + 2000 if year < 100 else year, int(month), int(day))
    return date.fromisoformat(token)


class MissedDatesField(forms.CharField):
    """Dates of missed doses, one per line or separated by commas, as DD/MM/YYYY or YYYY-MM-DD."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. 05/02/2026, 06/02/2026, 07/02/2026"})

    def to_python(self, value):
        text = super().to_python(value) or ""
        days, bad = [], []
        for token in text.replace(",", " ").replace(";", " ").split():
            try:
                days.append(_parse_day(token))
            except ValueError:
                bad.append(token)
        if bad:
            raise forms.ValidationError(
                f"Not a date: {', '.join(bad)}. Write each date as DD/MM/YYYY, separated by commas or new lines."
            )
        return sorted(set(days))


class PharmacyReportForm(EpisodeForm):
    pharmacy_name = forms.CharField(max_length=200)
    period_start = date_field("First day of the period")
    period_end = date_field("Last day of the period")
    doses_due = forms.IntegerField(min_value=0, max_value=400)
    supervised_doses_taken = forms.IntegerField(min_value=0, max_value=400, label="Supervised doses taken")
    take_home_doses_collected = forms.IntegerField(
        min_value=0, max_value=400, initial=0, label="Doses collected to take home"
    )
    missed_dates = MissedDatesField(
        label="Dates of missed doses",
        required=False,
        help_text="Three or more in a row is a safety event: tolerance may be lost.",
    )
    concerns = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    prescriber_informed_on = date_field(
        "Prescriber told on",
        required=False,
        help_text="After three or more missed doses in a row: when the pharmacist or you told the prescriber.",
    )

    def clean_period_start(self):
        return self._check_date("period_start")

    def clean_prescriber_informed_on(self):
        day = self.cleaned_data.get("prescriber_informed_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day

    def clean(self):
        data = super().clean()
        start, end, missed = data.get("period_start"), data.get("period_end"), data.get("missed_dates")
        if start and end and end < start:
            self.add_error("period_end", "The period cannot end before it starts.")
        elif start and end and missed:
            outside = [d for d in missed if not start <= d <= end]
            if outside:
                self.add_error(
                    "missed_dates",
                    "Missed doses must fall within the report's period "
                    f"({start:%d/%m/%Y} to {end:%d/%m/%Y}): {', '.join(f'{d:%d/%m/%Y}' for d in outside)} "
                    + ("does not." if len(outside) == 1 else "do not."),
                )
        counts = [data.get(k) for k in ("doses_due", "supervised_doses_taken", "take_home_doses_collected")]
        if None not in counts and "missed_dates" not in self.errors:
            due, taken, collected = counts
            if taken + collected > due:
                self.add_error(
                    "supervised_doses_taken", "Doses taken and collected cannot be more than the doses due."
                )
            elif taken + collected + len(missed or []) > due:
                self.add_error(
                    "missed_dates",
                    f"{len(missed)} missed, {taken} taken and {collected} collected is more than the {due} doses due.",
                )
        return data


# --- The prescriber told, and records entered in error -------------------------------------------------------


class PrescriberInformedForm(forms.Form):
    informed_on = date_field(
        "The prescriber was told on", error_messages={"required": "Give the date the prescriber was told."}
    )


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label="What was wrong",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was wrong, for example: recorded against the wrong patient."},
        help_text="For example: recorded against the wrong patient; the pharmacy sent a corrected report.",
    )
