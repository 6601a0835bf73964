"""
keel's backups: pg_dump files with checksums, pruned to the newest few.

A backup is ``pg_dump --format=custom`` written as ``keel-YYYYMMDDTHHMMSSZ.dump``
with ``<name>.sha256`` beside it (the format ``sha256sum -c`` reads). The same
code writes them for ``make backup`` (scripts/backup.py) and for the worker's
daily job (core.tasks.backup_database), and checks them before ``make restore``.
Standard library only, so that the script runs it without Django.
"""

import glob
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

NAME = re.compile(r"keel-\d{8}T\d{6}Z\.dump")
DEFAULT_KEEP = 7
RESTORE_ARGS = (
    # Objects in the dump are dropped first, so a restore over a live database
    # replaces it; the user restoring owns what it creates; one transaction, so
    # a failed restore leaves the database as it was.
    "--clean --if-exists --no-owner --no-privileges --single-transaction "
    "--exit-on-error"
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


class Dumper(Protocol):
    def dump(self, out: Path) -> None: ...


def find_client(name: str) -> str:
    """Return the path of a PostgreSQL client tool (pg_dump, pg_restore)."""
    on_path = shutil.which(name)
    if on_path:
        return on_path
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(  # noqa: S603 (a path shutil.which found)
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.access(Path(bindir, name), os.X_OK):
            return str(Path(bindir, name))
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates.sort(key=lambda path: int(Path(path).parent.parent.name.split(".")[0]))
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} is not installed where this runs. Install the PostgreSQL client "
        "(apt-get install postgresql-client), or back up through the database's "
        "container: make backup VIA=compose, or the timer or CronJob of "
        "docs/operations.md."
    )


@dataclass
class Host:
    """The database named by DB_*, reached with this machine's client tools."""

    settings: dict[str, str]

    @classmethod
    def from_database(cls, database: dict[str, Any]) -> "Host":
        """Return the Host of one of Django's DATABASES entries."""
        return cls({
            "DB_NAME": str(database["NAME"]),
            "DB_USER": str(database["USER"]),
            "DB_PASSWORD": str(database["PASSWORD"] or ""),
            "DB_HOST": str(database["HOST"]),
            "DB_PORT": str(database["PORT"] or ""),
        })  # fmt: skip

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


def run(
    command: list[str],
    env: dict[str, str] | None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> None:
    """Run a pg_dump or pg_restore; on failure raise with the end of its stderr."""
    # The command is pg_dump or pg_restore with arguments built here.
    completed = subprocess.run(  # noqa: S603
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


def backup(target: Dumper, directory: Path, keep: int) -> Path:
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
