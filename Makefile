# keel's commands. `make help` lists them; the README explains each.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
COMPOSE ?= podman-compose
DB_PUBLISH_PORT ?= 5432
export DB_PUBLISH_PORT

# mypy's Django plugin loads settings, which need these; none is a real secret.
LINT_ENV := DJANGO_ENV_FILE= DJANGO_DEBUG=1 DB_NAME=keel DB_USER=keel DB_HOST=localhost \
	DJANGO_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	JWT_SIGNING_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')

.PHONY: help env install lint test security dev up down

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

env: ## Write backend/.env and backend/db.env with fresh secrets (never overwrites).
	@$(PYTHON) scripts/make_env.py

$(BIN)/uv:
	@$(PYTHON) -m venv $(VENV) || { echo "make: cannot create $(VENV); on Debian or Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet
	@touch $@

install: $(VENV)/.installed ## Create .venv/ with the locked dependencies, dev tools included.

lint: install ## ruff format --check, ruff check and mypy.
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(LINT_ENV) $(BIN)/mypy

test: lint ## Lint, then the whole test suite on a real PostgreSQL.
	$(BIN)/pytest

security: install ## The security and reliability checks, as a table (no containers).
	$(BIN)/python scripts/security.py

dev: env install ## Django's dev server on 127.0.0.1:8000 against the stack's PostgreSQL.
	$(COMPOSE) up -d db
	cd backend && DB_HOST=127.0.0.1 DB_PORT=$(DB_PUBLISH_PORT) ../$(BIN)/python manage.py migrate
	cd backend && DB_HOST=127.0.0.1 DB_PORT=$(DB_PUBLISH_PORT) ../$(BIN)/python manage.py runserver 127.0.0.1:8000

up: env ## The podman-compose stack, reachable on 127.0.0.1:8000.
	$(COMPOSE) up -d --build
	@echo "keel is starting on http://127.0.0.1:8000/admin/ (logs: $(COMPOSE) logs -f backend)"

down: ## Stop the stack (volumes are kept).
	$(COMPOSE) down
