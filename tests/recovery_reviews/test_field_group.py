"""The caseload's filters are written without crispy-forms' templates (recovery_reviews.forms.field_group): the same
elements, attributes and error links as `|as_crispy_field`, checked here against crispy itself."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.test.html import parse_html

from recovery_reviews.forms import Select, field_group


class Filters(forms.Form):
    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(choices=[("", "Any"), ("due", "Due")], required=False, widget=Select)
    week = forms.BooleanField(label="Due this week", required=False)
    agree = forms.BooleanField(label="Agreed")
    why = forms.CharField(label="Reason", help_text="Say why <b>here</b>.", max_length=5)


CASES = {
    "nothing chosen": {},
    "chosen": {"q": "smi", "status": "due", "week": "on", "why": "ok"},
    "wrong": {"q": "x", "status": "bogus", "why": "far too long"},
}


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("name", ["q", "status", "week", "agree", "why"])
def test_a_field_is_written_as_crispy_forms_writes_it(name, data):
    form = Filters(data)
    form.is_valid()
    assert parse_html(field_group(form[name])) == parse_html(as_crispy_field(form[name]))


def test_an_error_is_linked_to_its_control():
    form = Filters({"status": "bogus", "why": "ok"})
    form.is_valid()
    written = field_group(form["status"])
    assert 'aria-describedby="id_status_error"' in written and 'aria-invalid="true"' in written
    assert '<div id="id_status_error" class="invalid-feedback"><p id="error_1_id_status"><strong>' in written
    assert "bogus is not one of the available choices" in written


def test_help_text_and_required_are_written_and_the_help_text_escaped_as_crispy_does():
    written = field_group(Filters()["why"])
    assert '<span class="asteriskField">*</span>' in written and " required" in written
    assert '<div id="id_why_helptext" class="form-text">Say why <b>here</b>.</div>' in written


def test_another_kind_of_control_is_refused():
    class Other(forms.Form):
        notes = forms.CharField(widget=forms.Textarea)

    with pytest.raises(TypeError, match="not Textarea"):
        field_group(Other()["notes"])
