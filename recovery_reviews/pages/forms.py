"""Forms of the composite pages."""

from django import forms
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from recovery_reviews.access import teams_for_user
from recovery_reviews.models import Role
from reviews.status import STATUS_LABELS


class Select(forms.Select):
    """Django's select, written out here instead of through a template for each option: a manager of every team
    has 150 of them on every caseload page (4 ms of rendering). The same markup as django/forms/widgets/select.html
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


def _attributes(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare name for True, nothing for False."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
            for name, value in attrs.items()
            if value is not False
        )
    )


class CaseloadFilterForm(forms.Form):
    """The caseload's filters. Whose patients ("mine") is chosen by the page's toggle, My caseload or Whole team,
    and carried by the form in a hidden field: a keyworker opens on their own caseload, everyone else on the team
    (docs/design.md, Users and their jobs); `mine=` asks for the team whatever the role:
    docs/clinical-safety/hazard-log.md, H-042: A keyworker's own caseload hides the team's urgent patients."""

    q = forms.CharField(label="Name or NHS number", required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *STATUS_LABELS.items()], required=False)
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All my teams", widget=Select)
    mine = forms.BooleanField(label="Only my caseload", required=False)
    week = forms.BooleanField(label="Due this week", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for_user(user)
        self.mine_by_default = user.role == Role.KEYWORKER

    def clean(self):
        cleaned = super().clean()
        if "mine" not in self.data:  # not chosen: the role's default
            cleaned["mine"] = self.mine_by_default
        return cleaned
