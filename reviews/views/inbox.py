"""The in-app inbox of reminders, and each person's choice of reminder emails.

docs/reminders.md, "The inbox".

A person sees only their own items; another's item is a 404. An item's page (GET) only shows it; its button
(POST, so that a prefetch, a crawler or a link in another site changes nothing) marks it read and goes to its
link, the patient's page, which applies its own access rules.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from reviews import reminders
from reviews.models import InboxItem

ITEMS_PER_PAGE = 50


class EmailPreferenceForm(forms.Form):
    email_reminders = forms.BooleanField(
        label="Send me review reminders by email as well",
        required=False,
        help_text="Reminders always reach your inbox here, whichever you choose.",
    )


def inbox(request):
    """Unread first, then newest first."""
    items = (
        InboxItem.objects.filter(recipient=request.user)
        .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-pk")
        .only("pk", "subject", "created_at", "read_at")
    )
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reviews/inbox.html", {"page": page})


@require_http_methods(["GET", "POST"])
def inbox_open(request, pk):
    item = get_object_or_404(InboxItem, pk=pk, recipient=request.user)
    link = item.link if url_has_allowed_host_and_scheme(item.link, allowed_hosts={request.get_host()}) else ""
    if request.method == "GET":
        return render(request, "reviews/inbox_item.html", {"item": item, "link": link})
    reminders.inbox_item_open(item=item)
    return redirect(link or "reviews:inbox")


@require_POST
def inbox_read_all(request):
    count = reminders.inbox_mark_all_read(user=request.user)
    messages.success(request, f"{count} item{'' if count == 1 else 's'} marked as read.")
    return redirect("reviews:inbox")


def email_preference(request):
    if request.method == "POST":
        form = EmailPreferenceForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["email_reminders"]
            reminders.email_reminders_set(user=request.user, enabled=enabled)
            messages.success(
                request,
                "Reminder emails are on."
                if enabled
                else "Reminder emails are off. Your inbox here still receives every reminder.",
            )
            return redirect("reviews:email_preference")
    else:
        form = EmailPreferenceForm(initial={"email_reminders": request.user.email_reminders})
    return render(request, "reviews/email_preference.html", {"form": form})


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox_open, name="inbox_open"),
    path("inbox/read-all/", inbox_read_all, name="inbox_read_all"),
    path("inbox/email/", email_preference, name="email_preference"),
]
