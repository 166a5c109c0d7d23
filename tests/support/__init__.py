"""Helpers shared by the tests: the frozen clock (clock.py) and the factories of records (factories.py)."""
