def navigation(request):
    """The unread inbox count for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from reviews.models import InboxItem

    return {"unread_inbox_count": InboxItem.objects.filter(recipient=user, read_at__isnull=True).count()}
