# chainsite: `make run` serves the directory with the real chain data; `make test` runs the suite.
# Both honour DATABASE_URL (SQLite file db.sqlite3 when unset).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell echo $${WEB_CONCURRENCY:-3})

.PHONY: run test lint format serve venv bench load backup restore clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed --if-empty
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-like serving: gunicorn, DEBUG off, static files from whitenoise (hashed and
# compressed by collectstatic). Plain http on loopback unless the environment says otherwise;
# WEB_CONCURRENCY sets the worker count (default 3: 2 cores x 1 + 1 for a database-bound app).
serve: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed --if-empty
	export DEBUG=$${DEBUG:-false} ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} \
	       SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} SECURE_COOKIES=$${SECURE_COOKIES:-false} \
	       SECRET_KEY=$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')}; \
	$(BIN)/python manage.py collectstatic --noinput -v 0 && \
	exec $(BIN)/gunicorn chainsite.wsgi --workers $(WORKERS) --bind $(HOST):$(PORT) --timeout 30 \
	     --access-logfile $${ACCESS_LOG:--}

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmarks against DATABASE_URL (PostgreSQL for meaningful numbers); see docs/performance.md.
BENCH_SIZES ?= 1000,10000,100000
bench: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed --if-empty
	$(BIN)/python manage.py bench --sizes $(BENCH_SIZES)

# A bounded load run (bench/load.py) against a server already running on loopback, started
# so that one address may submit often and use the API freely:
#   SUBMISSION_RATE_LIMIT=100000 API_THROTTLE_RATE=off make serve   (then, in another shell)
#   make load                      (LOAD_CLIENTS=16 LOAD_SECONDS=60; same DATABASE_URL as the server;
#                                   LOAD_PUBLISH_EVERY=S: a curator saves every S s, same REDIS_URL too)
# It reports requests/s, latency percentiles and errors, and checks every accepted submission
# exists exactly once (status pages and database); exit status 1 on any error.
LOAD_URL ?= http://$(HOST):$(PORT)
LOAD_CLIENTS ?= 16
LOAD_SECONDS ?= 60
load: $(VENV)/.runtime
	$(BIN)/python bench/load.py --base-url $(LOAD_URL) --clients $(LOAD_CLIENTS) --duration $(LOAD_SECONDS) \
	    --verify-db $(if $(LOAD_JSON),--json $(LOAD_JSON)) $(if $(LOAD_PUBLISH_EVERY),--publish-every $(LOAD_PUBLISH_EVERY))

# Backups of the database in DATABASE_URL: `make backup`, then `make restore FILE=backups/…`.
backup: $(VENV)/.runtime
	$(BIN)/python manage.py backup

restore: $(VENV)/.runtime
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/chainsite-….dump"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" --yes

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
