"""What the patients' forms share (docs/conventions.md 4: forms validate and convert; clean_* return
domain values; views hand cleaned_data to a service, which validates the record again as a whole). Messages
say what is wrong and how to put it right, and sit beside the field they are about."""

from django import forms
from django.utils import timezone

from recovery_reviews import formatting
from recovery_reviews.forms import DATE


def date_field(label=None, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE, **kwargs)


class EpisodeForm(forms.Form):
    """A form about one episode: knows its dates, so it can refuse dates outside the episode."""

    def __init__(self, *args, episode, **kwargs):
        self.episode = episode
        super().__init__(*args, **kwargs)

    def _check_date(self, name: str, *, future_ok: bool = False):
        day = self.cleaned_data.get(name)
        if day is None:
            return day
        if day < self.episode.entry_date:
            raise forms.ValidationError(
                f"This is before the episode began on {formatting.day(self.episode.entry_date)}."
            )
        if not future_ok and day > timezone.localdate():
            raise forms.ValidationError("This date is in the future.")
        return day


class CellFieldsMixin:
    """For forms laid out as a grid (the TOP, a test's results): Bootstrap classes on every widget, marked
    invalid, and described by its message, whenever an error is added to it (by the field, the form or a
    service), so that the message sits in the cell beside the input."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self):
        for field in self.fields.values():
            widget = field.widget
            if getattr(widget, "styled", False):
                continue
            widget.styled = True
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        names = [field] if field else list(getattr(error, "error_dict", {}))
        for name in names:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-describedby"] = f"error_1_{self[name].auto_id}"
