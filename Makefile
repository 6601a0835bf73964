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
# make lint checks these against this release's API schemas (bundled, offline).
KUBE_MANIFESTS := deploy/kube.yaml deploy/kube-cluster.yaml deploy/kube-pgbouncer.yaml
KUBERNETES_VERSION := 1.37.0
DB_PUBLISH_PORT ?= 5432
export DB_PUBLISH_PORT

# mypy's Django plugin loads settings, which need these; none is a real secret.
LINT_ENV := KEEL_ENV_FILE= DJANGO_DEBUG=1 DB_NAME=keel DB_USER=keel DB_HOST=localhost \
	DJANGO_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	JWT_SIGNING_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')

# Files the dev server writes into ./backend belong to the checkout's owner;
# under rootless Podman the container's root already is the user running it.
DEV_USER := $${KEEL_DEV_USER:-$$(if [ "$$(podman info --format '{{.Host.Security.Rootless}}' 2>/dev/null)" = true ]; then echo 0:0; else stat -c %u:%g backend; fi)}

PREFLIGHT := $(BIN)/python scripts/preflight.py
# keel on the host, against PostgreSQL it starts itself unless DB_HOST is set.
HOST_RUN := $(BIN)/python scripts/dev.py
# The everyday targets act on the compose stack while its containers run,
# otherwise on keel on the host (STACK=1 or STACK=0 decides instead).
STACK ?= $$(podman ps --quiet --filter label=io.podman.compose.project=$${COMPOSE_PROJECT_NAME:-keel} 2>/dev/null | grep -q . && echo 1 || echo 0)
ON_STACK = [ "$(STACK)" = 1 ]
# Wait for the stack's backend, then say where to go: the development
# backend's port, or the production proxy's (HTTPS, self-signed unless
# PROXY_TLS_DIR holds a certificate, so the wait does not check it).
STACK_URLS = $(HOST_RUN) wait http://127.0.0.1:$${BACKEND_PUBLISH_PORT:-8000} "$(COMPOSE) logs -f backend"
PROD_URLS = $(HOST_RUN) wait --any-certificate https://127.0.0.1:$${PROXY_HTTPS_PORT:-8443} \
	"$(COMPOSE) $(PROD_FILES) logs -f backend proxy"

# wrk drives the load run and the benchmark; as root it is installed if missing.
ENSURE_WRK := command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] \
	&& { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null; } \
	|| { echo "make: needs wrk (apt-get install wrk)" >&2; exit 1; }

.PHONY: help env install lint app test security dev serve up prod down kube kube-down \
	logs shell psql migrate makemigrations superuser format clean e2e bench backup restore \
	roll

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

env: ## Write backend/.env and backend/db.env with fresh secrets (never overwrites).
	@$(PYTHON) scripts/make_env.py

$(BIN)/uv:
	@$(PYTHON) scripts/preflight.py python
	@$(PYTHON) -m venv $(VENV) || { echo "make: cannot create $(VENV); on Debian or Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

# Bytecode compiled once here: every Python the suite starts (servers,
# workers, manage.py) then loads Django and the rest without compiling them,
# also where PYTHONDONTWRITEBYTECODE keeps Python from saving what it compiles.
$(VENV)/.installed: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet --compile-bytecode
	@touch $@

install: $(VENV)/.installed ## Create .venv/ with the locked dependencies, dev tools included.

lint: install ## ruff format --check, ruff check, mypy, makemigrations --check, the kube manifests' schemas.
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(LINT_ENV) $(BIN)/mypy
	$(LINT_ENV) $(BIN)/python scripts/makemigrations.py --check --dry-run
	$(BIN)/kubernetes-validate --strict --quiet --kubernetes-version $(KUBERNETES_VERSION) $(KUBE_MANIFESTS)

app: install ## A new domain app: make app NAME=orders [MODEL=Order] (docs/first-app.md).
	@test -n "$(NAME)" || { echo "make app: name the app, for example: make app NAME=orders" >&2; exit 2; }
	$(LINT_ENV) $(BIN)/python scripts/new_app.py "$(NAME)" $(if $(MODEL),--model "$(MODEL)")

test: lint ## Lint, then the whole test suite on a real PostgreSQL.
	$(BIN)/pytest

security: install ## The security and reliability checks, as a table (no containers).
	@$(ENSURE_WRK)
	$(BIN)/python scripts/security.py

dev: env install ## Run keel on the host: Django's dev server, PostgreSQL started by keel (no Podman).
	@$(PREFLIGHT) dev
	@$(HOST_RUN) run

serve: env install ## keel's production server (bin/serve) on the host, like dev otherwise.
	@$(PREFLIGHT) serve
	@$(HOST_RUN) run --server serve

up: env install ## Run keel in Podman: the development stack (runserver, source bind-mounted).
	@$(PREFLIGHT) up
	KEEL_DEV_USER=$(DEV_USER) $(COMPOSE) up -d --build
	@$(STACK_URLS)

# PGBOUNCER=1: make prod and make kube put PgBouncer between the replicas and
# PostgreSQL (docs/scaling.md#pgbouncer).
PGBOUNCER ?= 0
POOLED = [ "$(PGBOUNCER)" = 1 ]

prod: env install ## The production stack in Podman (podman-compose.prod.yml: granian, read-only).
	@$(PREFLIGHT) prod
	$(BIN)/python scripts/podman_secrets.py create
	if $(POOLED); then DB_POOLER_HOST=pgbouncer $(COMPOSE) $(PROD_FILES) --profile pgbouncer up -d --build; \
	else $(COMPOSE) $(PROD_FILES) up -d --build; fi
	@$(PROD_URLS)

# One replica at a time, each gated on /readyz (scripts/roll.py says how no
# request is cut); KEEL_REPLICAS, COMPOSE_PROJECT_NAME and PGBOUNCER as for
# make prod.
ROLL = $(BIN)/python scripts/roll.py $(COMPOSE) $(PROD_FILES)
roll: install ## Rebuild the backend's image, then replace the production replicas one at a time.
	@if $(POOLED); then DB_POOLER_HOST=pgbouncer $(ROLL) --profile pgbouncer; else $(ROLL); fi

# Through both files, so the production-only proxy goes too; --remove-orphans
# takes every replica, whatever KEEL_REPLICAS was when they started.
down: install ## Stop the stack, development or production (volumes are kept).
	@out=$$($(COMPOSE) $(PROD_FILES) --profile redis --profile pgbouncer down --remove-orphans 2>&1) || { echo "$$out" >&2; exit 1; }
	@$(BIN)/python scripts/podman_secrets.py rm

kube: env install ## deploy/kube.yaml with podman kube play, secrets from the env files.
	@$(PREFLIGHT) kube
	$(COMPOSE) $(PROD_FILES) build backend
	$(BIN)/python scripts/kube_secrets.py podman
	podman network exists keel || podman network create keel
	if $(POOLED); then $(COMPOSE) $(PROD_FILES) --profile pgbouncer build pgbouncer \
		&& podman kube play --replace --network keel deploy/kube-pgbouncer.yaml \
		&& mkdir -p .keel && sed '/name: DB_POOLER_HOST$$/{n;s/value: ""/value: keel-pgbouncer/}' \
			deploy/kube.yaml > .keel/kube-pgbouncer-backend.yaml \
		&& podman kube play --replace --network keel .keel/kube-pgbouncer-backend.yaml; \
	else podman kube play --replace --network keel deploy/kube.yaml; fi
	@echo "keel's replicas, on the network keel (no host port: docs/kube.md):"
	@podman ps --filter 'name=^keel-backend-pod-[0-9]+-backend$$' --format '{{.Names}}' \
		| xargs -r podman inspect --format '  http://{{(index .NetworkSettings.Networks "keel").IPAddress}}:8000/  {{.Name}}'

kube-down: ## Stop what make kube started (the volume keel-pgdata is kept).
	podman kube play --down deploy/kube.yaml
	-podman pod exists keel-pgbouncer && podman kube play --down deploy/kube-pgbouncer.yaml
	podman secret rm keel-backend keel-db

logs: install ## Follow the server's logs (the stack's backend, or .keel/ on the host).
	@if $(ON_STACK); then $(COMPOSE) logs -f backend; else $(HOST_RUN) logs; fi

shell: install ## Django's shell, against the same database.
	@if $(ON_STACK); then $(COMPOSE) exec backend python manage.py shell; else $(HOST_RUN) manage shell; fi

psql: install ## psql to keel's database.
	@if $(ON_STACK); then $(COMPOSE) exec db sh -c 'psql -U "$$POSTGRES_USER" "$$POSTGRES_DB"'; else $(HOST_RUN) psql; fi

migrate: install ## Apply migrations (under keel's advisory lock).
	@if $(ON_STACK); then $(COMPOSE) exec backend python manage.py migrate_locked; else $(HOST_RUN) manage migrate_locked; fi

makemigrations: install ## Write migrations for model changes into backend/ (no database needed).
	@$(LINT_ENV) $(BIN)/python scripts/makemigrations.py

superuser: install ## Create a superuser interactively (createsuperuser).
	@if $(ON_STACK); then $(COMPOSE) exec backend python manage.py createsuperuser; else $(HOST_RUN) manage createsuperuser; fi

format: install ## Format and fix the code (ruff format, ruff check --fix).
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Delete keel's data and caches: .keel/ (host database), the stack's volumes, caches.
	@if [ -x $(BIN)/python ]; then $(HOST_RUN) stop-db; fi
	rm -rf .keel backend/staticfiles .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
	@if command -v podman >/dev/null && [ -x $(COMPOSE) ]; then \
		out=$$($(COMPOSE) $(PROD_FILES) --profile redis --profile pgbouncer down --remove-orphans --volumes 2>&1) \
			|| { echo "$$out" >&2; exit 1; }; fi

e2e: install ## Run it all in Podman: image, both stacks, kube (pytest e2e/; root on a bare host).
	$(BIN)/pytest e2e -v

# Which database: the compose stack's db container while the stack runs (through
# podman exec), else make dev's (its embedded PostgreSQL, or DB_HOST's) with the
# host's client. VIA=compose or VIA=host decides instead.
VIA ?= auto
ON_COMPOSE = [ "$(VIA)" = compose ] || { [ "$(VIA)" = auto ] && $(ON_STACK); }
BACKUP := $(BIN)/python scripts/backup.py

backup: install ## pg_dump keel's database to backups/ with a checksum; keeps KEEL_BACKUP_KEEP (7).
	@if $(ON_COMPOSE); then $(BACKUP) backup --via compose; else $(HOST_RUN) exec $(BACKUP) backup --via host; fi

restore: install ## Restore FILE=backups/keel-....dump into keel's database (asks; YES=1 does not).
	@[ -n "$(FILE)" ] || { echo "make: restore needs FILE=backups/keel-....dump" >&2; exit 2; }
	@if $(ON_COMPOSE); then $(BACKUP) restore "$(FILE)" --via compose $(if $(filter 1,$(YES)),--yes); \
	else $(HOST_RUN) exec $(BACKUP) restore "$(FILE)" --via host $(if $(filter 1,$(YES)),--yes); fi

bench: install ## keel's server vs a peer's defaults with wrk; BENCH_SECONDS shortens it (bench/run.py).
	@$(ENSURE_WRK)
	PYTHONPATH=backend:. $(BIN)/python -m bench.run
