"""The inbox: one's own reminders, unread first; an item's page only shows it, and its button (a POST) marks it
read and goes to the patient; the email preference is each person's own."""

from datetime import UTC, datetime

import pytest

from reviews.models import InboxItem

pytestmark = pytest.mark.django_db


def item(recipient, subject, *, created, read=False, link="/patients/1/"):
    made = InboxItem.objects.create(recipient=recipient, subject=subject, body=subject, link=link)
    InboxItem.objects.filter(pk=made.pk).update(
        created_at=datetime(2026, 4, created, 9, tzinfo=UTC),
        read_at=datetime(2026, 4, created, 10, tzinfo=UTC) if read else None,
    )
    return made


def subjects(response):
    return [i.subject for i in response.context["page"]]


def test_unread_items_come_first_then_the_newest(client, alice, django_assert_num_queries):
    item(alice, "old unread", created=1)
    item(alice, "new read", created=5, read=True)
    item(alice, "new unread", created=4)
    item(alice, "old read", created=2, read=True)
    client.force_login(alice)
    with django_assert_num_queries(5):  # session, the user with their team, unread count, page count, page
        response = client.get("/reviews/inbox/")
    assert subjects(response) == ["new unread", "old unread", "new read", "old read"]
    assert 'data-testid="unread-count">2<' in response.content.decode()


def test_each_person_sees_only_their_own_items(client, alice, olga):
    item(alice, "for alice", created=1)
    item(olga, "for olga", created=1)
    client.force_login(olga)
    assert subjects(client.get("/reviews/inbox/")) == ["for olga"]


def test_opening_an_item_marks_it_read_and_goes_to_the_patient(client, alice):
    mine = item(alice, "due soon", created=1, link="/patients/7/")
    client.force_login(alice)
    response = client.post(f"/reviews/inbox/{mine.pk}/")
    assert response.status_code == 302 and response["Location"] == "/patients/7/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'data-testid="unread-count"' not in client.get("/reviews/inbox/").content.decode()


def test_an_item_never_sends_anyone_off_the_site(client, alice):
    odd = item(alice, "odd", created=1, link="https://elsewhere.example/phish")
    client.force_login(alice)
    assert client.post(f"/reviews/inbox/{odd.pk}/")["Location"] == "/reviews/inbox/"
    assert "Open the patient" not in client.get(f"/reviews/inbox/{odd.pk}/").content.decode()


def test_nobody_opens_another_persons_item(client, alice, olga):
    theirs = item(alice, "for alice", created=1)
    client.force_login(olga)
    assert client.get(f"/reviews/inbox/{theirs.pk}/").status_code == 404
    assert client.post(f"/reviews/inbox/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_reads_only_ones_own_and_needs_a_post(client, alice, olga):
    item(alice, "a", created=1)
    item(alice, "b", created=2)
    item(olga, "c", created=1)
    client.force_login(alice)
    assert client.get("/reviews/inbox/read-all/").status_code == 405
    response = client.post("/reviews/inbox/read-all/", follow=True)
    assert "2 items marked as read." in response.content.decode()
    assert not InboxItem.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert InboxItem.objects.filter(recipient=olga, read_at__isnull=True).exists()


def test_a_person_turns_reminder_emails_off_and_on_for_themselves(client, alice, sam):
    client.force_login(alice)
    page = client.get("/reviews/inbox/email/")
    assert page.context["form"].initial == {"email_reminders": True}
    response = client.post("/reviews/inbox/email/", {}, follow=True)
    assert "Reminder emails are off" in response.content.decode()
    alice.refresh_from_db()
    sam.refresh_from_db()
    assert alice.email_reminders is False and sam.email_reminders is True
    assert "Email reminders: off" in client.get("/reviews/inbox/").content.decode()
    client.post("/reviews/inbox/email/", {"email_reminders": "on"})
    alice.refresh_from_db()
    assert alice.email_reminders is True


def test_the_inbox_needs_a_login(client):
    assert client.get("/reviews/inbox/")["Location"] == "/login/?next=/reviews/inbox/"
