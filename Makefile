# The CRM's everyday commands. `make run` and `make test` work on a bare clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist processes for `make test` (each gets its own test database and Redis number).
TEST_WORKERS ?= 2

.PHONY: help install run test lint format messages checkmessages clean seed-scale bench load

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## Install Python and npm dependencies
	mkdir -p var/broker/queue var/broker/processed var/media

run: export DEBUG ?= 1
run: install ## Set up everything and start web, worker and beat
	$(MANAGE) migrate --no-input
	$(MANAGE) compilemessages --ignore '.venv' --ignore 'node_modules' -v0
	$(MANAGE) collectstatic --no-input -v0
	$(MANAGE) sync_schedules
	$(MANAGE) seed_demo
	@echo ""
	@echo "  CRM running at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password: $${DEMO_PASSWORD:-crm-demo-2026}):"
	@echo "    admin, manager, rep1, rep2, agent1, agent2, supervisor, analyst"
	@echo "  Press Ctrl-C to stop web, worker and beat."
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A crm worker --loglevel=INFO --concurrency=2 & \
	  $(VENV)/bin/celery -A crm beat --loglevel=INFO & \
	  $(MANAGE) runserver $(HOST):$(PORT) --noreload & \
	  wait

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install ## Extract strings into the zh_Hans catalog and compile it
	DEBUG=1 $(MANAGE) makemessages -l zh_Hans --no-obsolete --no-location --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'staticfiles/*'
	DEBUG=1 $(MANAGE) compilemessages --ignore '.venv' --ignore 'node_modules' -v0

checkmessages: install ## Fail if the zh_Hans catalog misses or fuzzes any string
	DEBUG=1 $(MANAGE) checkmessages

test: export DEBUG := 1
test: install lint ## Lint, migrations check, translation check and the whole test suite
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) checkmessages
	$(MANAGE) compilemessages --ignore '.venv' --ignore 'node_modules' -v0
	$(VENV)/bin/pytest --create-db -n $(TEST_WORKERS)

# The scale data set and the benchmark run on their own Postgres database, never the real one:
#   createdb crm_bench && DATABASE_URL=postgres://…/crm_bench make seed-scale bench
CUSTOMERS ?= 100000
SEED ?= 1
seed-scale: export DEBUG ?= 1
seed-scale: install ## Generate the scale data set on DATABASE_URL (CUSTOMERS=100000 SEED=1)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to an empty Postgres database."; exit 1; }
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_scale --customers $(CUSTOMERS) --seed $(SEED)

bench: export DEBUG ?= 1
bench: install ## Benchmark pages and jobs on the scale data set (table here, JSON in var/bench/)
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to the database seed-scale filled."; exit 1; }
	$(MANAGE) bench $(BENCH_ARGS)

# The load test runs gunicorn as production does (DEBUG off, tests/load/settings.py) on the
# scale data set, and locust headless against it; gunicorn stops when locust is done.
LOAD_PORT ?= 8601
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
LOAD_WORKERS ?= 4
load: export DJANGO_SETTINGS_MODULE := tests.load.settings
load: install ## Load test on the scale data set: gunicorn (4 workers), 50 locust users for 60 s
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to the database seed-scale filled."; exit 1; }
	mkdir -p var/load
	$(MANAGE) collectstatic --no-input -v0
	@$(VENV)/bin/gunicorn crm.wsgi --workers $(LOAD_WORKERS) --bind $(HOST):$(LOAD_PORT) \
	    --error-logfile var/load/gunicorn.log & gunicorn=$$!; \
	  trap 'kill $$gunicorn 2>/dev/null; wait $$gunicorn' EXIT; \
	  for _ in $$(seq 60); do \
	    curl -sf -o /dev/null http://$(HOST):$(LOAD_PORT)/accounts/login/ && break; sleep 1; \
	  done; \
	  $(VENV)/bin/locust -f tests/load/locustfile.py --headless --only-summary \
	    --users $(LOAD_USERS) --spawn-rate 10 --run-time $(LOAD_SECONDS)s \
	    --host http://$(HOST):$(LOAD_PORT) --csv var/load/locust

clean: ## Remove the local database, broker files and collected static files
	rm -rf var staticfiles
