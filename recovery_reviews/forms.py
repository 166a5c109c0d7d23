"""What every app's forms share: the date input, the check of the day a review was held, and putting a
service's validation errors back on a form, beside the fields they are about (docs/conventions.md 4: forms
validate and convert; services validate the record again as a whole)."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


class Select(forms.Select):
    """Django's select, written out here instead of through a template for each option: a manager of every team
    has 150 of them on the caseload and on every manager's page (4 ms of rendering). The same markup as django/forms/widgets/select.html
    (each option's template ends with a new line) for a select without groups or option attributes, which is all
    this form uses; anything else goes to Django's. Named Select as Django's is: crispy-forms writes the widget's
    class name into the element's class attribute."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = [
            option for _group, group_options, _index in widget["optgroups"] for option in group_options
        ]
        if any(group for group, _options, _index in widget["optgroups"]) or any(
            option["attrs"].keys() - {"selected"} for option in options
        ):
            return super().render(name, value, attrs, renderer)
        html = [format_html('<select name="{}"{}>', widget["name"], _attributes(widget["attrs"]))]
        for option in options:
            html.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    mark_safe(" selected") if option["attrs"].get("selected") else "",
                    option["label"],
                )
            )
        html.append("\n</select>")
        return mark_safe("".join(html))


def csrf_input(request) -> str:
    """What {% csrf_token %} writes, for HTML written in Python: the hidden field with the request's token (one
    token for the whole page, as a template's csrf_token is)."""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))


class _ReadChoices(forms.models.ModelChoiceIterator):
    """Django's choices of a model, read with a plain query. Django's read them through QuerySet.iterator(), which
    on PostgreSQL opens a server-side cursor (DECLARE ... WITH HOLD, FETCH, CLOSE): three round trips, and the
    rows copied aside at commit, for a list of teams on every filtered page."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # .all(): read afresh each time, as Django's does
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    """Django's, with its choices read by a plain query (_ReadChoices)."""

    iterator = _ReadChoices


def _attributes(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare name for True, nothing for False."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
            for name, value in attrs.items()
            if value is not False
        )
    )


# The classes crispy-forms' Bootstrap 5 pack gives each kind of control (its widget's class name, then Bootstrap's).
FIELD_CONTROL_CLASSES = (
    (forms.CheckboxInput, "checkboxinput form-check-input"),
    (forms.Select, "select form-select"),
    (forms.TextInput, "textinput form-control"),
)


def field_group(field) -> str:
    """A bound field of a text input, a select or a checkbox as crispy-forms' Bootstrap 5 pack writes it (the same
    elements, classes and ids: label, control, each error under it and linked by aria-describedby, help text),
    without a template: `|as_crispy_field` took a fifth of the caseload's rendering for its four filters, and the
    caseload is the page keyworkers open most (docs/design.md, The keyworker's home). Other widgets: crispy's."""
    widget = field.field.widget
    classes = next((c for kind, c in FIELD_CONTROL_CLASSES if isinstance(widget, kind)), None)
    if classes is None:
        raise TypeError(
            f"field_group writes text inputs, selects and checkboxes, not {type(widget).__name__}."
        )
    attrs = {"class": f"{classes} is-invalid" if field.errors else classes}
    described_by = [
        f"{field.auto_id}_{part}"
        for part, there in (("helptext", field.help_text), ("error", field.errors))
        if there
    ]
    if field.errors:
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    errors = (
        format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>',
            field.auto_id,
            format_html_join(
                "",
                '<p id="error_{}_{}"><strong>{}</strong></p>',
                ((n, field.auto_id, error) for n, error in enumerate(field.errors, 1)),
            ),
        )
        if field.errors
        else ""
    )
    helptext = (
        format_html(
            '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, mark_safe(field.help_text)
        )
        if field.help_text
        else ""
    )
    label = format_html(
        "{}{}", field.label, mark_safe('<span class="asteriskField">*</span>') if field.field.required else ""
    )
    required = " requiredField" if field.field.required else ""
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label{}">{}</label>{}{}</div></div>',
            field.auto_id, _control(field, attrs), field.auto_id, required, label, errors, helptext,
        )  # fmt: skip
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label{}">{}</label>{}{}{}</div>',
        field.auto_id, field.auto_id, required, label, _control(field, attrs), errors, helptext,
    )  # fmt: skip


def _control(field, attrs: dict) -> str:
    """The field's control: the template-free Select above, or an input as django/forms/widgets/input.html writes
    it (its value only when there is one)."""
    widget = field.field.widget
    if isinstance(widget, forms.Select):
        return field.as_widget(attrs=attrs)
    attrs = field.build_widget_attrs({**widget.attrs, **attrs, "id": field.auto_id})  # required, disabled
    context = widget.get_context(field.html_name, field.value(), attrs)
    control = context["widget"]
    value = "" if control["value"] is None else format_html(' value="{}"', str(control["value"]))
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        control["type"],
        control["name"],
        value,
        _attributes(control["attrs"]),
    )
