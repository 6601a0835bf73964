# keel's commands. `make help` lists them; the README explains each.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv's one pin is in pyproject.toml's dev group (so uv sync keeps it in .venv).
UV_VERSION := $(shell sed -n 's/^ *"uv==\([^"]*\)",$$/\1/p' pyproject.toml)
# The podman-compose pinned in the dev group, the one make e2e exercises.
COMPOSE ?= $(BIN)/podman-compose
PROD_FILES := -f podman-compose.yml -f podman-compose.prod.yml
DB_PUBLISH_PORT ?= 5432
export DB_PUBLISH_PORT

# mypy's Django plugin loads settings, which need these; none is a real secret.
LINT_ENV := KEEL_ENV_FILE= DJANGO_DEBUG=1 DB_NAME=keel DB_USER=keel DB_HOST=localhost \
	DJANGO_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	JWT_SIGNING_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')

# The host's view of the stack's PostgreSQL, for the servers run on the host.
HOST_DB := DB_HOST=$${DB_HOST:-127.0.0.1} DB_PORT=$${DB_PORT:-$(DB_PUBLISH_PORT)}
# Files the dev server writes into ./backend belong to the checkout's owner;
# under rootless Podman the container's root already is the user running it.
DEV_USER := $${KEEL_DEV_USER:-$$(if [ "$$(podman info --format '{{.Host.Security.Rootless}}' 2>/dev/null)" = true ]; then echo 0:0; else stat -c %u:%g backend; fi)}

# wrk drives the load run and the benchmark; as root it is installed if missing.
ENSURE_WRK := command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] \
	&& { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null; } \
	|| { echo "make: needs wrk (apt-get install wrk)" >&2; exit 1; }

.PHONY: help env install lint app test security dev serve up prod down kube kube-down e2e bench

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

env: ## Write backend/.env and backend/db.env with fresh secrets (never overwrites).
	@$(PYTHON) scripts/make_env.py

$(BIN)/uv:
	@$(PYTHON) -m venv $(VENV) || { echo "make: cannot create $(VENV); on Debian or Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet
	@touch $@

install: $(VENV)/.installed ## Create .venv/ with the locked dependencies, dev tools included.

lint: install ## ruff format --check, ruff check, mypy, makemigrations --check.
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(LINT_ENV) $(BIN)/mypy
	$(LINT_ENV) $(BIN)/python scripts/makemigrations.py --check --dry-run

app: install ## A new domain app: make app NAME=orders [MODEL=Order] (docs/first-app.md).
	@test -n "$(NAME)" || { echo "make app: name the app, for example: make app NAME=orders" >&2; exit 2; }
	$(LINT_ENV) $(BIN)/python scripts/new_app.py "$(NAME)" $(if $(MODEL),--model "$(MODEL)")

test: lint ## Lint, then the whole test suite on a real PostgreSQL.
	$(BIN)/pytest

security: install ## The security and reliability checks, as a table (no containers).
	@$(ENSURE_WRK)
	$(BIN)/python scripts/security.py

dev: env install ## Django's dev server on 127.0.0.1:8000 against the stack's PostgreSQL.
	$(COMPOSE) up -d db
	cd backend && $(HOST_DB) ../$(BIN)/python manage.py wait_for_db && $(HOST_DB) ../$(BIN)/python manage.py migrate_locked
	cd backend && $(HOST_DB) ../$(BIN)/python manage.py runserver 127.0.0.1:8000

serve: env install ## keel's production server (bin/serve) on 127.0.0.1:8000 against the stack's PostgreSQL.
	$(COMPOSE) up -d db
	cd backend && $(HOST_DB) ../$(BIN)/python manage.py wait_for_db && $(HOST_DB) ../$(BIN)/python manage.py migrate_locked
	cd backend && $(HOST_DB) KEEL_HOST=$${KEEL_HOST:-127.0.0.1} PATH="$(abspath $(BIN)):$$PATH" bin/serve

up: env install ## The development stack (runserver, source bind-mounted) on 127.0.0.1:8000.
	KEEL_DEV_USER=$(DEV_USER) $(COMPOSE) up -d --build
	@echo "keel is starting on http://127.0.0.1:$${BACKEND_PUBLISH_PORT:-8000}/admin/ (logs: $(COMPOSE) logs -f backend)"

prod: env install ## The production stack (podman-compose.prod.yml: granian, read-only) on 127.0.0.1:8000.
	$(COMPOSE) $(PROD_FILES) up -d --build
	@echo "keel is starting on http://127.0.0.1:$${BACKEND_PUBLISH_PORT:-8000}/admin/ (logs: $(COMPOSE) logs -f backend)"

down: install ## Stop the stack, development or production (volumes are kept).
	$(COMPOSE) --profile redis down

kube: env install ## deploy/kube.yaml with podman kube play, secrets from the env files.
	$(COMPOSE) $(PROD_FILES) build backend
	$(BIN)/python scripts/kube_secrets.py podman
	podman network exists keel || podman network create keel
	podman kube play --replace --network keel deploy/kube.yaml

kube-down: ## Stop what make kube started (the volume keel-pgdata is kept).
	podman kube play --down deploy/kube.yaml
	podman secret rm keel-backend keel-db

e2e: install ## Run it all in Podman: image, both stacks, kube (pytest e2e/; root on a bare host).
	$(BIN)/pytest e2e -v

bench: install ## keel's server vs a peer's defaults with wrk; BENCH_SECONDS shortens it (bench/run.py).
	@$(ENSURE_WRK)
	$(BIN)/python bench/run.py
