PY := .venv/bin/python

.PHONY: install run test lint format bench

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]"

run: install
	$(PY) manage.py rundemo

test: install
	$(PY) -m pytest

lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format:
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

# Benchmarks print figures; run them on PostgreSQL (DATABASE_URL=postgres://...).
bench:
	$(PY) manage.py bench_schedule
