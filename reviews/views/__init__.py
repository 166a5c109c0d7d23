"""Views by concern: inbox.py (reminders inbox), strategic.py (strategic reviews and check-ups),
dashboard.py (managers). Each module has its own urlpatterns, joined in reviews/urls.py."""
