"""The caseload's team filter writes its select without a template for each option
(recovery_reviews/pages/forms.py, Select): exactly Django's markup, for any value, escaped as Django escapes."""

import pytest
from django import forms

from recovery_reviews.pages.forms import CaseloadFilterForm, Select
from reviews.dashboards.forms import TeamChoiceForm
from tests.support.factories import TeamFactory

CHOICES = [("", "All my teams"), (1, "A & <B>"), ("2", 'Team "2"')]


@pytest.mark.parametrize("value", ["", 1, "2", None, "unknown"])
def test_the_select_is_djangos_markup(value):
    attrs = {"class": "select form-select", "id": "id_team", "required": True, "disabled": False}
    assert Select(choices=CHOICES, attrs=attrs).render("team", value) == forms.Select(
        choices=CHOICES, attrs=attrs
    ).render("team", value)


@pytest.mark.django_db
def test_the_team_filter_of_a_manager_of_many_teams_is_djangos_markup(mona, team):
    for n in range(5):
        mona.managed_teams.add(TeamFactory(name=f"Team {n} & co"))
    mona.managed_teams.add(team)
    form = CaseloadFilterForm({"team": str(team.pk)}, user=mona)
    field = form.fields["team"]
    ours = field.widget.render("team", team.pk, {"id": "id_team"})
    django = forms.Select(choices=field.choices).render("team", team.pk, {"id": "id_team"})
    assert ours == django and ours.count("<option") == 7 and "Team 0 &amp; co" in ours


@pytest.mark.django_db
def test_the_managers_pages_team_choice_is_djangos_markup(mona, team):
    """The dashboard's, the reports' and the review list's team choice (reviews.dashboards.forms) too."""
    for n in range(3):
        mona.managed_teams.add(TeamFactory(name=f"Team {n} <3>"))
    form = TeamChoiceForm({"team": str(team.pk)}, user=mona)
    field = form.fields["team"]
    ours = field.widget.render("team", team.pk, {"id": "id_team"})
    assert isinstance(field.widget, Select)
    assert ours == forms.Select(choices=field.choices).render("team", team.pk, {"id": "id_team"})
    assert ours.count("<option") == 5 and "Team 0 &lt;3&gt;" in ours
