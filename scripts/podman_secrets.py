"""
Make the Podman secrets the production stack mounts, from backend/.env.

    python scripts/podman_secrets.py create    one secret per variable below,
                                               and backend/prod.env
    python scripts/podman_secrets.py rm        remove the secrets

The backend and the worker of podman-compose.prod.yml (and the Quadlet units)
read these variables from files under /run/secrets/ (NAME_FILE, configs/env.py)
instead of from their environment, which `podman inspect` and /proc would
show. Each secret is named after its variable: DJANGO_SECRET_KEY is
keel-django-secret-key. The stack's env file is backend/prod.env, backend/.env
less these variables: podman-compose passes an env file's every line as a
`-e NAME=value` argument, which `podman inspect` shows in CreateCommand.
`make prod` creates both afresh from backend/.env before it starts the stack;
`make down` removes the secrets. A value is never printed, only the names.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / "backend" / ".env"
PROD_ENV_FILE = ROOT / "backend" / "prod.env"
# What every production backend needs; the optional ones (EMAIL_HOST_PASSWORD,
# SENTRY_DSN, ...) may be left empty, which a secret file may not be, so they
# stay in the env file or are mounted by hand (docs/containers.md).
VARIABLES = ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DB_PASSWORD")


def secret_name(variable: str) -> str:
    """Return the Podman secret that holds variable: keel-django-secret-key."""
    return "keel-" + variable.lower().replace("_", "-")


def without_secrets(env_text: str) -> str:
    """Return the env file's text less the lines that set one of VARIABLES."""
    kept = [
        line
        for line in env_text.splitlines()
        if line.split("=", 1)[0].strip().removeprefix("export ") not in VARIABLES
    ]
    return "".join(f"{line}\n" for line in kept)


def create(podman: str, env_file: Path, prod_env_file: Path = PROD_ENV_FILE) -> int:
    if not env_file.is_file():
        print(f"podman_secrets: {env_file} is missing; run: make env", file=sys.stderr)
        return 1
    values = dotenv_values(env_file)
    missing = [name for name in VARIABLES if not (values.get(name) or "").strip()]
    if missing:
        print(
            f"podman_secrets: {env_file} sets no {', '.join(missing)}; run: make env",
            file=sys.stderr,
        )
        return 1
    for variable in VARIABLES:
        name = secret_name(variable)
        subprocess.run([podman, "secret", "rm", name], capture_output=True, check=False)
        subprocess.run(
            [podman, "secret", "create", name, "-"],
            input=str(values[variable]).encode(),
            capture_output=True,
            check=True,
        )
    prod_env_file.write_text(without_secrets(env_file.read_text()))
    prod_env_file.chmod(0o600)
    print(
        f"podman_secrets: {', '.join(map(secret_name, VARIABLES))} created; "
        f"{prod_env_file.name} written without them."
    )
    return 0


def remove(podman: str) -> int:
    for variable in VARIABLES:
        subprocess.run(
            [podman, "secret", "rm", secret_name(variable)],
            capture_output=True,
            check=False,
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["create", "rm"])
    parser.add_argument("--podman", default="podman", help="the podman binary")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE)
    parser.add_argument("--prod-env-file", type=Path, default=PROD_ENV_FILE)
    args = parser.parse_args()
    if args.action == "create":
        return create(args.podman, args.env_file, args.prod_env_file)
    return remove(args.podman)


if __name__ == "__main__":
    sys.exit(main())
