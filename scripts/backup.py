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
  the file KEEL_ENV_FILE names), as the settings read them. The password is
  handed over in PGPASSWORD, never on a command line.

``auto`` is ``compose`` when the stack's ``db`` container runs, else ``host``.
Standard library and python-dotenv only.
"""

import argparse
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "backups"
NAME = re.compile(r"keel-\d{8}T\d{6}Z\.dump")
DEFAULT_KEEP = 7
# Inside the database container the official image's variables name the
# database and its owner; the local socket trusts them.
IN_CONTAINER = 'exec {tool} -U "$POSTGRES_USER" -d "$POSTGRES_DB" {args}'
RESTORE_ARGS = (
    # Objects in the dump are dropped first, so a restore over a live database
    # replaces it; the user restoring owns what it creates; one transaction, so
    # a failed restore leaves the database as it was.
    "--clean --if-exists --no-owner --no-privileges --single-transaction "
    "--exit-on-error"
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


def find_client(name: str) -> str:
    """Return the path of a PostgreSQL client tool (pg_dump, pg_restore)."""
    on_path = shutil.which(name)
    if on_path:
        return on_path
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.access(Path(bindir, name), os.X_OK):
            return str(Path(bindir, name))
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates.sort(key=lambda path: int(Path(path).parent.parent.name.split(".")[0]))
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} is not installed on this host. Install the PostgreSQL client "
        "(apt-get install postgresql-client), or back up the compose stack's "
        "database with --via compose (VIA=compose), which needs none."
    )


@dataclass
class Host:
    """The database named by DB_*, reached with the host's client tools."""

    settings: dict[str, str]

    @classmethod
    def from_environment(cls) -> "Host":
        env_file = os.environ.get("KEEL_ENV_FILE", str(ROOT / "backend" / ".env"))
        values: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            values.update(
                {key: value or "" for key, value in dotenv_values(env_file).items()}
            )
        values.update(os.environ)
        missing = [
            name for name in ("DB_NAME", "DB_USER", "DB_HOST") if not values.get(name)
        ]
        if missing:
            raise BackupError(
                f"{', '.join(missing)} not set: put the database's DB_* in the "
                "environment or backend/.env (make env writes it)."
            )
        return cls({name: values.get(name, "") for name in (
            "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT"
        )})  # fmt: skip

    def describe(self) -> str:
        port = self.settings["DB_PORT"] or "5432"
        return (
            f"database {self.settings['DB_NAME']} on {self.settings['DB_HOST']}:"
            f"{port} (the host's PostgreSQL client)"
        )

    def _command(self, tool: str, *args: str) -> list[str]:
        return [
            find_client(tool),
            "--host", self.settings["DB_HOST"],
            "--port", self.settings["DB_PORT"] or "5432",
            "--username", self.settings["DB_USER"],
            "--dbname", self.settings["DB_NAME"],
            "--no-password",
            *args,
        ]  # fmt: skip

    def _env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.settings["DB_PASSWORD"]}

    def dump(self, out: Path) -> None:
        with out.open("wb") as stream:
            run(self._command("pg_dump", "--format=custom"), self._env(), stdout=stream)

    def restore(self, dump: Path) -> None:
        with dump.open("rb") as stream:
            run(
                self._command("pg_restore", *RESTORE_ARGS.split()),
                self._env(),
                stdin=stream,
            )


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
    return Host.from_environment()


def run(
    command: list[str],
    env: dict[str, str] | None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> None:
    """Run a pg_dump or pg_restore; on failure raise with the end of its stderr."""
    completed = subprocess.run(
        command,
        env=env,
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        check=False,
    )
    if completed.returncode != 0:
        tool = "pg_restore" if "pg_restore" in " ".join(command) else "pg_dump"
        message = completed.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{tool} failed (exit {completed.returncode}):\n{message}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_file(dump: Path) -> Path:
    return dump.with_name(dump.name + ".sha256")


def verify(dump: Path) -> None:
    """Raise BackupError unless dump's checksum file exists and matches it."""
    if not dump.is_file():
        raise BackupError(f"{dump} does not exist.")
    expected_file = checksum_file(dump)
    if not expected_file.is_file():
        raise BackupError(
            f"{expected_file.name} is missing: without its checksum the backup "
            "cannot be trusted, so it is not restored."
        )
    expected = expected_file.read_text().split()
    if not expected or expected[0] != sha256(dump):
        raise BackupError(
            f"{dump.name} does not match its checksum ({expected_file.name}): the "
            "file is damaged or was changed, so it is not restored."
        )


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


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest keep backups (with their checksums); return them."""
    if keep == 0:
        return []
    dumps = sorted(path for path in directory.iterdir() if NAME.fullmatch(path.name))
    removed = dumps[:-keep]
    for dump in removed:
        dump.unlink()
        checksum_file(dump).unlink(missing_ok=True)
    return removed


def backup(target: Target, directory: Path, keep: int) -> Path:
    """Write a dump and its checksum to directory, prune, and return the dump."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("keel-%Y%m%dT%H%M%SZ.dump")
    dump = directory / name
    if dump.exists():
        raise BackupError(f"{dump} exists already; try again in a second.")
    partial = dump.with_name(name + ".partial")
    # Dumps hold password hashes: readable by their owner only.
    partial.touch(mode=0o600)
    try:
        target.dump(partial)
        checksum_file(dump).write_text(f"{sha256(partial)}  {name}\n")
        partial.rename(dump)
    finally:
        partial.unlink(missing_ok=True)
    prune(directory, keep)
    return dump


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
