# Shortcuts for the README's commands. `make run` and `make test` install first, like the README's one-liners.
PY := .venv/bin/python

.PHONY: install run test ci lint format bench

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]"

# The embedded default: SQLite, a Celery worker with beat on the filesystem broker, demo data, port 8000.
run: install
	$(PY) manage.py rundemo

test: install
	$(PY) -m pytest

# What CI runs, against the PostgreSQL and Redis on 127.0.0.1 (installs chromium and starts them if needed).
ci:
	CI=true bash .ci/run

lint:
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && .venv/bin/lint-imports

format:
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

# Benchmarks print figures (they are not timed tests), with DJANGO_DEBUG=1 unless set, as the README's figures
# were measured. Run them on PostgreSQL:
#   make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench
bench: export DJANGO_DEBUG ?= 1
bench:
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bench_schedule
	$(PY) manage.py bench_reminders
