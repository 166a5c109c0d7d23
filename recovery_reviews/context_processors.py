from django.db.models import Count

from recovery_reviews.compiled_queries import CompiledQuery


def _unread(user: int):
    from reviews.models import InboxItem

    return (
        InboxItem.objects.filter(recipient_id=user, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )


# On every page: compiled once (recovery_reviews/compiled_queries.py). A count grouped by the one recipient, so
# that it is a query of rows like any other: no row when nothing is unread.
_UNREAD = CompiledQuery(_unread)


def navigation(request):
    """The unread inbox count for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_inbox_count": sum(_UNREAD.run(user=user.pk))}
