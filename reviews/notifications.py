"""In-app notices to managers about a user's conduct, sent from the patients layer by signal (it cannot import
reviews): a user whose registrations matched too many people already on record
(docs/design.md, Access and audit). The notice names the user and the count, never a patient."""

from django.dispatch import receiver

from patients.services.registration import registration_match_limit_reached
from recovery_reviews.models import Role, User
from reviews.models import InboxItem


@receiver(registration_match_limit_reached, dispatch_uid="reviews.notifications.registration_probing")
def tell_managers_of_registration_matches(sender, user, matches, **kwargs) -> None:
    team_ids = [user.team_id] if user.team_id else []
    team_ids += list(user.managed_teams.values_list("pk", flat=True))
    managers = (
        User.objects.filter(role=Role.MANAGER, is_active=True, managed_teams__in=team_ids)
        .exclude(pk=user.pk)
        .distinct()
    )
    InboxItem.objects.bulk_create(
        InboxItem(
            recipient=manager,
            subject=f"Registration paused for {user.get_full_name() or user.username}",
            body=(
                f"{user.get_full_name() or user.username} ({user.username}) tried to register {matches} people "
                "who are already on record within an hour, and registering is paused for them for the rest of "
                "it. Each match is on that patient's access log. Please check that this was work: a search of "
                "the caseload finds patients without registering them."
            ),
        )
        for manager in managers
    )
