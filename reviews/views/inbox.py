from django.shortcuts import render
from django.urls import path

from reviews.models import InboxItem


def inbox(request):
    items = InboxItem.objects.filter(recipient=request.user).order_by("-created_at")[:100]
    return render(request, "reviews/inbox.html", {"items": items})


urlpatterns = [path("inbox/", inbox, name="inbox")]
