from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from reviews.models import InboxItem
from reviews.services import reminders


class EmailPreferenceForm(forms.Form):
    email_reminders = forms.BooleanField(label="Send me review reminders by email too", required=False)


def inbox(request):
    items = (
        InboxItem.objects.filter(recipient=request.user)
        .select_related("reminder")
        .order_by("read_at", "-created_at")[:200]
    )
    form = EmailPreferenceForm(initial={"email_reminders": request.user.email_reminders})
    return render(request, "reviews/inbox.html", {"items": items, "form": form})


def inbox_open(request, pk):
    item = get_object_or_404(InboxItem, pk=pk, recipient=request.user)
    reminders.inbox_item_open(item=item)
    return redirect(item.link or "reviews:inbox")


@require_POST
def inbox_read_all(request):
    count = reminders.inbox_mark_all_read(user=request.user)
    messages.success(request, f"{count} item(s) marked as read.")
    return redirect("reviews:inbox")


@require_POST
def email_preference(request):
    form = EmailPreferenceForm(request.POST)
    form.is_valid()
    enabled = form.cleaned_data.get("email_reminders", False)
    reminders.email_reminders_set(user=request.user, enabled=enabled)
    messages.success(
        request,
        "Reminder emails are on." if enabled else "Reminder emails are off; the inbox still receives them.",
    )
    return redirect("reviews:inbox")


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/", inbox_open, name="inbox_open"),
    path("inbox/read-all/", inbox_read_all, name="inbox_read_all"),
    path("inbox/email/", email_preference, name="email_preference"),
]
