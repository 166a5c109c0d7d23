"""The top layer's pages: those that compose several apps (docs/design.md, Layers). The caseload (caseload.py),
the patient's record with its timeline (record.py, timeline.py) and leaving treatment (episode_exit.py) read the
clinical record, the care plan and the review schedule together, so they sit above every app and no app imports
them. Their URLs keep the `patients:` names (recovery_reviews/urls.py)."""
