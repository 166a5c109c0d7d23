"""The demo service that `manage.py seed_demo` loads: a builder (service.py) that tells each episode's story
(course.py) through its evidence (evidence.py) and its strategic reviews (review_history.py), in the demo's
own words (vocabulary.py)."""
