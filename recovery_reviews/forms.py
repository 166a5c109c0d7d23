"""What every app's forms share: the date input, the check of the day a review was held, and putting a
service's validation errors back on a form, beside the fields they are about (docs/conventions.md 4: forms
validate and convert; services validate the record again as a whole)."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from recovery_reviews.formatting import day as format_day

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the ISO value a date input needs


def not_in_future(day: date | None) -> date | None:
    if day and day > timezone.localdate():
        raise forms.ValidationError("This date is in the future.")
    return day


def held_on_checked(day: date, *, episode_began: date | None = None) -> date:
    """The day a review or check-up was held: not in the future and, when the episode's entry date is given,
    not before it."""
    day = not_in_future(day)
    if episode_began is not None and day < episode_began:
        raise forms.ValidationError(f"This is before the episode began on {format_day(episode_began)}.")
    return day


def add_service_errors(form, error: ValidationError, *, rename: dict | None = None) -> None:
    """Put a service's validation errors beside the fields they name (renamed where the form calls a field
    otherwise), the rest at the top of the form."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            name = rename.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def error_summary(form) -> list[tuple[str, str, str]]:
    """Every error of a form, for the list at the top of the page: (id of the input to go to, the field's label,
    the message), the form's own errors first with no link, then the fields' in the order the form asks. A group
    of radio buttons or boxes is reached at its first one. A form may name its fields shortly (SHORT_LABELS)."""
    if form is None or not form.is_bound or not form.errors:
        return []
    short = getattr(form, "SHORT_LABELS", {})
    summary = [("", "", message) for message in form.non_field_errors()]
    for name in form.fields:
        messages = form.errors.get(name, ())
        if not messages:
            continue
        field = form[name]
        grouped = field.widget_type in ("radioselect", "checkboxselectmultiple")
        anchor = f"{field.auto_id}_0" if grouped else field.auto_id
        label = short.get(name) or field.label or name.replace("_", " ").capitalize()
        summary += [(anchor, label, message) for message in messages]
    return summary


def page_errors(values) -> list[tuple[str, str, str]]:
    """Every error of every bound form and formset among a page's context values, in the order the page gives
    them, each once: what the summary at the top of a page that failed lists, and what makes its title begin
    "Error: " (docs/design.md, Accessible on every device)."""
    summary, seen = [], set()

    def add(errors):
        for error in errors:
            if error not in seen:
                seen.add(error)
                summary.append(error)

    for value in values:
        if isinstance(value, forms.BaseForm):
            add(error_summary(value))
        elif isinstance(value, forms.BaseFormSet) and value.is_bound:
            add(("", "", message) for message in value.non_form_errors())
            for form in value.forms:
                add(error_summary(form))
    return summary
