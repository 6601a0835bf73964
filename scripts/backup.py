"""
Back up keel's database, prune old backups and restore one, checksum first.

    backup.py backup  [--via auto|host|compose] [--dir backups] [--keep N]
    backup.py restore FILE [--via auto|host|compose] [--yes]

A backup is ``pg_dump --format=custom`` written to ``backups/`` as
``keel-YYYYMMDDTHHMMSSZ.dump``, with ``<name>.sha256`` beside it (the format
``sha256sum -c`` reads); after each backup only the newest KEEL_BACKUP_KEEP
(default 7, 0 keeps all) are kept. Restore refuses a file whose checksum file
is missing or does not match, and asks before it replaces the database unless
given --yes.

Two ways to reach the database (``--via``, default ``auto``):

- ``compose``: through the running compose stack's database container
  (``podman exec`` runs pg_dump and pg_restore inside it, as its own
  POSTGRES_USER over the local socket), so the host needs no PostgreSQL client.
- ``host``: the host's pg_dump and pg_restore against DB_NAME, DB_USER,
  DB_PASSWORD, DB_HOST and DB_PORT, from the environment over backend/.env (or
  the file KEEL_ENV_FILE names), as the settings read them, DB_PASSWORD_FILE
  included. The password is handed over in PGPASSWORD, never on a command
  line.

``auto`` is ``compose`` when the stack's ``db`` container runs, else ``host``.
Standard library, python-dotenv, core.backups and configs.secret_files (no
Django).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
# The format, the checksums, pruning and pg_dump itself are core.backups', which
# the worker's daily backup job runs too.
sys.path.insert(0, str(ROOT / "backend"))
from configs.secret_files import read_secret_files  # noqa: E402
from core.backups import (  # noqa: E402
    DEFAULT_KEEP,
    NAME,
    RESTORE_ARGS,
    BackupError,
    Host,
    backup,
    checksum_file,
    find_client,
    prune,
    run,
    sha256,
    verify,
)

__all__ = [
    "NAME", "BackupError", "backup", "checksum_file", "find_client", "prune",
    "sha256", "verify",
]  # fmt: skip

DEFAULT_DIR = ROOT / "backups"
# Inside the database container the official image's variables name the
# database and its owner; the local socket trusts them.
IN_CONTAINER = 'exec {tool} -U "$POSTGRES_USER" -d "$POSTGRES_DB" {args}'


def host_from_environment() -> Host:
    """Return the database DB_* name, from the environment over backend/.env."""
    env_file = os.environ.get("KEEL_ENV_FILE", str(ROOT / "backend" / ".env"))
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update(
            {key: value or "" for key, value in dotenv_values(env_file).items()}
        )
    values.update(os.environ)
    values, problems = read_secret_files(values, ("DB_PASSWORD",))
    if problems:
        raise BackupError(" ".join(problems))
    missing = [
        name for name in ("DB_NAME", "DB_USER", "DB_HOST") if not values.get(name)
    ]
    if missing:
        raise BackupError(
            f"{', '.join(missing)} not set: put the database's DB_* in the "
            "environment or backend/.env (make env writes it)."
        )
    return Host({name: values.get(name, "") for name in (
        "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT"
    )})  # fmt: skip


@dataclass
class Compose:
    """The compose stack's database container, reached with podman exec."""

    container: str

    @staticmethod
    def running_container() -> str | None:
        """Return the name of the stack's running db container, if there is one."""
        if not shutil.which("podman"):
            return None
        project = os.environ.get("COMPOSE_PROJECT_NAME", "keel")
        listed = subprocess.run(
            [
                "podman", "ps", "--format", "{{.Names}}",
                "--filter", f"label=io.podman.compose.project={project}",
                "--filter", "label=com.docker.compose.service=db",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        names = listed.stdout.split()
        return names[0] if listed.returncode == 0 and len(names) == 1 else None

    def describe(self) -> str:
        return f"the database of container {self.container} (podman exec)"

    def _command(self, tool: str, args: str, interactive: bool = False) -> list[str]:
        script = IN_CONTAINER.format(tool=tool, args=args)
        return [
            "podman", "exec", *(["-i"] if interactive else []),
            self.container, "sh", "-c", script,
        ]  # fmt: skip

    def dump(self, out: Path) -> None:
        with out.open("wb") as stream:
            run(self._command("pg_dump", "--format=custom"), None, stdout=stream)

    def restore(self, dump: Path) -> None:
        with dump.open("rb") as stream:
            command = self._command("pg_restore", RESTORE_ARGS, interactive=True)
            run(command, None, stdin=stream)


Target = Host | Compose


def choose_target(via: str) -> Target:
    """Return where the database is, as --via says (auto: compose if it runs)."""
    if via in ("auto", "compose"):
        container = Compose.running_container()
        if container:
            return Compose(container)
        if via == "compose":
            raise BackupError(
                "the compose stack's database container is not running "
                "(start it with make up or make prod, or pass VIA=host)."
            )
    return host_from_environment()


def keep_count(keep: int | None) -> int:
    if keep is not None:
        return keep
    raw = os.environ.get("KEEL_BACKUP_KEEP", "").strip()
    if not raw:
        return DEFAULT_KEEP
    if not raw.isdigit():
        raise BackupError(
            f"KEEL_BACKUP_KEEP must be a whole number (0 keeps all); got {raw!r}."
        )
    return int(raw)


def confirmed(target: Target, dump: Path) -> bool:
    if not sys.stdin.isatty():
        raise BackupError(
            "restore replaces the database and needs a confirmation: run it in a "
            "terminal, or pass --yes (make restore ... YES=1)."
        )
    answer = input(
        f"Restore {dump.name} into {target.describe()}? This replaces its data. "
        "Type yes to go on: "
    )
    return answer.strip() == "yes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("backup", "restore"):
        command = commands.add_parser(name)
        command.add_argument(
            "--via", choices=("auto", "host", "compose"), default="auto"
        )
        if name == "backup":
            command.add_argument("--dir", type=Path, default=DEFAULT_DIR)
            command.add_argument("--keep", type=int, default=None)
        else:
            command.add_argument("file", type=Path)
            command.add_argument("--yes", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            keep = keep_count(args.keep)
            target = choose_target(args.via)
            started = time.monotonic()
            dump = backup(target, args.dir, keep)
            took = time.monotonic() - started
            print(
                f"backup: {dump} ({dump.stat().st_size:,} bytes) from "
                f"{target.describe()} in {took:.2f} s; kept the newest "
                f"{keep or 'all'}"
            )
            return 0
        verify(args.file)
        target = choose_target(args.via)
        if not args.yes and not confirmed(target, args.file):
            print("restore: not confirmed; nothing changed.")
            return 1
        started = time.monotonic()
        target.restore(args.file)
        took = time.monotonic() - started
        print(f"restore: {args.file.name} into {target.describe()} in {took:.2f} s")
        return 0
    except BackupError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
