"""An inbox item's page only shows it (docs/reminders.md, "The inbox"): a GET changes nothing, so a browser's
prefetch, a crawler or a link planted elsewhere cannot mark a reminder read; the button is a POST."""

import pytest

from reviews.models import InboxItem

pytestmark = pytest.mark.django_db


def test_showing_an_item_leaves_it_unread(client, alice):
    mine = InboxItem.objects.create(
        recipient=alice,
        subject="Review due soon",
        body="The review is due.\nOpen the record.",
        link="/patients/7/",
    )
    client.force_login(alice)
    response = client.get(f"/reviews/inbox/{mine.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<p>The review is due.<br>Open the record.</p>" in page
    assert f'<form method="post" action="/reviews/inbox/{mine.pk}/">' in page
    assert "Open the patient's record and mark as read" in page
    mine.refresh_from_db()
    assert mine.read_at is None
    assert 'data-testid="unread-count">1<' in client.get("/reviews/inbox/").content.decode()


def test_the_button_marks_it_read_and_opens_the_record(client, alice):
    mine = InboxItem.objects.create(recipient=alice, subject="Review due soon", body="", link="/patients/7/")
    client.force_login(alice)
    response = client.post(f"/reviews/inbox/{mine.pk}/")
    assert response.status_code == 302 and response["Location"] == "/patients/7/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "Open the patient's record</button>" in client.get(f"/reviews/inbox/{mine.pk}/").content.decode()


def test_other_methods_are_refused(client, alice):
    mine = InboxItem.objects.create(recipient=alice, subject="Review due soon", body="", link="/patients/7/")
    client.force_login(alice)
    assert client.put(f"/reviews/inbox/{mine.pk}/").status_code == 405
