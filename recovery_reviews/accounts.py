"""Passwords (docs/design.md, Access and audit): every person changes their own; a manager, for the people of the
teams they manage, or support staff, for anyone, make a one-time reset link to give the person (it works once,
and for settings.PASSWORD_RESET_TIMEOUT); every change and every link made is in the audit log, with who did it."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from recovery_reviews.audit import record_account_event
from recovery_reviews.models import Role, User


def people_for(user):
    """Whose password `user` may reset: support staff anyone's but their own; a manager the keyworkers and senior
    practitioners of the teams they manage; nobody else anyone's."""
    if user.role == Role.SUPPORT:
        return User.objects.filter(is_active=True).exclude(pk=user.pk)
    if user.role == Role.MANAGER:
        return User.objects.filter(
            Q(team__in=user.managed_teams.all()),
            is_active=True,
            role__in=[Role.KEYWORKER, Role.SENIOR_PRACTITIONER],
        ).exclude(pk=user.pk)
    return User.objects.none()


def people(request):
    if request.user.role not in (Role.SUPPORT, Role.MANAGER):
        raise PermissionDenied("Reset links are made by a manager, for their teams, or by support staff.")
    return render(
        request,
        "registration/people.html",
        {"people": people_for(request.user).select_related("team").order_by("last_name", "first_name")},
    )


@require_POST
def reset_link(request, pk):
    person = get_object_or_404(people_for(request.user), pk=pk)
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    link = request.build_absolute_uri(reverse("password_reset_confirm", args=[uid, token]))
    record_account_event(person, by=request.user, event="password reset link made")
    return render(request, "registration/reset_link.html", {"person": person, "link": link})


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        record_account_event(self.request.user, by=self.request.user, event="password changed")
        messages.success(self.request, "Your password is changed.")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        record_account_event(form.user, by=form.user, event="password set with a reset link")
        return response


urlpatterns = [
    path("account/password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/people/", people, name="account_people"),
    path("account/people/<int:pk>/reset-link/", reset_link, name="account_reset_link"),
    path(
        "account/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
