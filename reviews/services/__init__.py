"""Every write of the reviews app, by concern: schedule.py (the scheduling adapter and recompute),
strategic.py (strategic reviews, findings, responses, unmet needs, check-ups). Reminders are in
reviews/reminders/."""
