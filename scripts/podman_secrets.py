"""
Make the Podman secrets the production stack mounts, from backend/.env.

    python scripts/podman_secrets.py create    one secret per secret variable,
                                               backend/prod.env, db.prod.env
    python scripts/podman_secrets.py rm        remove the secrets

The backend and the worker of podman-compose.prod.yml (and the Quadlet units)
read every secret variable (configs/secret_files.py: DJANGO_SECRET_KEY,
REDIS_URL with its password, SENTRY_DSN...) from a file under /run/secrets/
(NAME_FILE) instead of from their environment, which `podman inspect` and
/proc would show. Each secret is named after its variable: DJANGO_SECRET_KEY
is keel-django-secret-key. The stack's env file is backend/prod.env:
backend/.env less these variables, plus NAME_FILE for each one it sets;
podman-compose passes an env file's every line as a `-e NAME=value` argument,
which `podman inspect` shows in CreateCommand.

compose and Quadlet mount every secret, and Podman refuses to start a
container whose secret does not exist, so a variable backend/.env leaves
unset (SENTRY_DSN, say) gets a secret too, holding only a newline: prod.env
names no NAME_FILE for it, and settings would refuse it as empty if one did.
A variable given in backend/.env as NAME_FILE, a file on this host, has that
file's content put in the secret.

The database and Redis containers take theirs the same way: PostgreSQL's
image reads POSTGRES_PASSWORD_FILE (the secret keel-db-password, DB_PASSWORD
of backend/.env, which backend/db.env's POSTGRES_PASSWORD must equal), from
backend/db.prod.env: backend/db.env less its password. Redis's command reads
REDIS_PASSWORD_FILE, the secret keel-redis-password, made from
backend/redis.env (holding only a newline without one: the redis profile
then refuses to start, as it does without a password).

`make prod` creates them all afresh from the env files before it starts the
stack; `make down` removes the secrets. A value is never printed, only the
names.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))
from configs.secret_files import SECRETS, read_secret_files  # noqa: E402

ENV_FILE = ROOT / "backend" / ".env"
PROD_ENV_FILE = ROOT / "backend" / "prod.env"
DB_ENV_FILE = ROOT / "backend" / "db.env"
DB_PROD_ENV_FILE = ROOT / "backend" / "db.prod.env"
REDIS_ENV_FILE = ROOT / "backend" / "redis.env"
# The Redis container's own secret: not a variable settings read.
REDIS_PASSWORD_SECRET = "keel-redis-password"  # noqa: S105 (a name)
# Every secret settings may read from a file: compose and Quadlet mount each.
VARIABLES = SECRETS
# What every production backend needs: without them the stack cannot start.
REQUIRED = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DB_PASSWORD")
# The content of an unset variable's secret: Podman refuses an empty one.
UNSET = "\n"
SECRETS_DIR = "/run/secrets"


def secret_name(variable: str) -> str:
    """
    Return the Podman secret that holds variable: keel-django-secret-key,
    keel-metrics-token (for KEEL_METRICS_TOKEN).
    """
    return "keel-" + variable.lower().removeprefix("keel_").replace("_", "-")


def secret_path(variable: str) -> str:
    """Return where the stack's containers find variable's secret."""
    return f"{SECRETS_DIR}/{secret_name(variable)}"


def without(env_text: str, variables: list[str], files: dict[str, str]) -> str:
    """
    Return the env file's text less the lines that set one of variables (or
    its NAME_FILE), plus NAME_FILE=path for each NAME: path of files.
    """
    secret_lines = set(variables) | {f"{name}_FILE" for name in variables}
    kept = [
        line
        for line in env_text.splitlines()
        if line.split("=", 1)[0].strip().removeprefix("export ") not in secret_lines
    ]
    if files:
        kept.append(
            "# The secrets, mounted by Podman (scripts/podman_secrets.py wrote these)."
        )
    kept.extend(f"{name}_FILE={path}" for name, path in files.items())
    return "".join(f"{line}\n" for line in kept)


def secret_names() -> list[str]:
    """Return every secret the stack mounts: one per variable, and Redis's."""
    return [*map(secret_name, VARIABLES), REDIS_PASSWORD_SECRET]


def prod_env(env_text: str, set_variables: list[str]) -> str:
    """
    Return the env file's text less the lines that set one of VARIABLES (or
    its NAME_FILE), plus NAME_FILE=/run/secrets/... for each of set_variables.
    """
    files = {name: secret_path(name) for name in set_variables}
    return without(env_text, list(VARIABLES), files)


def db_prod_env(db_env_text: str) -> str:
    """Return db.env's text with POSTGRES_PASSWORD_FILE in place of its password."""
    files = {"POSTGRES_PASSWORD": secret_path("DB_PASSWORD")}
    return without(db_env_text, ["POSTGRES_PASSWORD"], files)


def make_secret(podman: str, name: str, content: str) -> None:
    """Create the Podman secret name holding content, in place of any old one."""
    subprocess.run([podman, "secret", "rm", name], capture_output=True, check=False)
    subprocess.run(
        [podman, "secret", "create", name, "-"],
        input=content.encode(),
        capture_output=True,
        check=True,
    )


def create(
    podman: str,
    env_file: Path,
    prod_env_file: Path = PROD_ENV_FILE,
    db_env_file: Path = DB_ENV_FILE,
    db_prod_env_file: Path = DB_PROD_ENV_FILE,
    redis_env_file: Path = REDIS_ENV_FILE,
) -> int:
    if not env_file.is_file():
        print(f"podman_secrets: {env_file} is missing; run: make env", file=sys.stderr)
        return 1
    raw = {name: value or "" for name, value in dotenv_values(env_file).items()}
    values, problems = read_secret_files(raw)
    if problems:
        for problem in problems:
            print(f"podman_secrets: {env_file}: {problem}", file=sys.stderr)
        return 1
    missing = [name for name in REQUIRED if not values.get(name, "").strip()]
    if missing:
        print(
            f"podman_secrets: {env_file} sets no {', '.join(missing)}; run: make env",
            file=sys.stderr,
        )
        return 1
    if not db_env_file.is_file():
        print(
            f"podman_secrets: {db_env_file} is missing; run: make env", file=sys.stderr
        )
        return 1
    set_variables = [name for name in VARIABLES if values.get(name, "").strip()]
    for variable in VARIABLES:
        content = values[variable] if variable in set_variables else UNSET
        make_secret(podman, secret_name(variable), content)
    redis = dotenv_values(redis_env_file) if redis_env_file.is_file() else {}
    make_secret(podman, REDIS_PASSWORD_SECRET, redis.get("REDIS_PASSWORD") or UNSET)
    for path, text in (
        (prod_env_file, prod_env(env_file.read_text(), set_variables)),
        (db_prod_env_file, db_prod_env(db_env_file.read_text())),
    ):
        path.write_text(text)
        path.chmod(0o600)
    unset = [name for name in VARIABLES if name not in set_variables]
    print(
        f"podman_secrets: {', '.join(map(secret_name, set_variables))} created "
        f"from {env_file.name}"
        + (
            f"; {', '.join(map(secret_name, unset))} empty (unset there)"
            if unset
            else ""
        )
        + f"; {REDIS_PASSWORD_SECRET} from {redis_env_file.name}"
        + f"; {prod_env_file.name} and {db_prod_env_file.name} written without them."
    )
    return 0


def remove(podman: str) -> int:
    for name in secret_names():
        subprocess.run([podman, "secret", "rm", name], capture_output=True, check=False)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["create", "rm"])
    parser.add_argument("--podman", default="podman", help="the podman binary")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE)
    parser.add_argument("--prod-env-file", type=Path, default=PROD_ENV_FILE)
    parser.add_argument("--db-env-file", type=Path, default=DB_ENV_FILE)
    parser.add_argument("--db-prod-env-file", type=Path, default=DB_PROD_ENV_FILE)
    parser.add_argument("--redis-env-file", type=Path, default=REDIS_ENV_FILE)
    args = parser.parse_args()
    if args.action == "create":
        return create(
            args.podman,
            args.env_file,
            args.prod_env_file,
            args.db_env_file,
            args.db_prod_env_file,
            args.redis_env_file,
        )
    return remove(args.podman)


if __name__ == "__main__":
    sys.exit(main())
