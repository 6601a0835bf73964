"""
`make backup` and `make restore` (scripts/backup.py), the scheduled backups
(deploy/backup.sh, the worker's core.backup_database) on the suite's PostgreSQL.
"""

import os
import secrets
import subprocess
from contextlib import contextmanager

import psycopg
import pytest
import yaml
from scripts import backup

from django.db import connection

from accounts.tests.factories import make_user
from core import backups
from core.tasks import backup_database
from testing.environment import BACKEND


def server() -> dict[str, str]:
    """Return the DB_* of the suite's server, pointing at its test database."""
    settings = connection.settings_dict
    return {
        "DB_NAME": settings["NAME"],
        "DB_USER": settings["USER"],
        "DB_PASSWORD": settings["PASSWORD"] or "",
        "DB_HOST": settings["HOST"],
        "DB_PORT": str(settings["PORT"] or 5432),
    }


def connect(database: str, **options):
    db = server()
    return psycopg.connect(
        host=db["DB_HOST"],
        port=db["DB_PORT"],
        user=db["DB_USER"],
        password=db["DB_PASSWORD"],
        dbname=database,
        **options,
    )


@contextmanager
def empty_database():
    """Yield the name of a new, empty database on the suite's server; drop it after."""
    name = f"keel_restore_{secrets.token_hex(4)}"
    with connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connect("postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def usernames(database: str) -> list[str]:
    with connect(database) as conn:
        rows = conn.execute("SELECT username FROM accounts_user ORDER BY username")
        return [row[0] for row in rows]


def delete_user(database: str, username: str) -> None:
    with connect(database) as conn:
        conn.execute("DELETE FROM accounts_user WHERE username = %s", [username])


@pytest.fixture
def host_db(monkeypatch):
    """Point scripts/backup.py's host mode at the suite's test database."""
    monkeypatch.setenv("KEEL_ENV_FILE", "")
    for name, value in server().items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_keels_rows_into_an_empty_database_and_over_a_changed_one(
    host_db, tmp_path, capsys
):
    make_user("alice")
    make_user("bob")
    assert backup.main(["backup", "--via", "host", "--dir", str(tmp_path)]) == 0
    (dump,) = tmp_path.glob("keel-*.dump")
    assert backup.NAME.fullmatch(dump.name)
    assert (tmp_path / f"{dump.name}.sha256").read_text().split() == [
        backup.sha256(dump),
        dump.name,
    ]
    assert dump.stat().st_mode & 0o077 == 0, "a dump holds password hashes"

    with empty_database() as restored:
        host_db.setenv("DB_NAME", restored)
        assert backup.main(["restore", str(dump), "--via", "host", "--yes"]) == 0
        assert usernames(restored) == ["alice", "bob"]
        delete_user(restored, "bob")
        # Over a database that already holds keel's tables: --clean replaces them.
        assert backup.main(["restore", str(dump), "--via", "host", "--yes"]) == 0
        assert usernames(restored) == ["alice", "bob"]
    assert "restore: " in capsys.readouterr().out


def write_dump(directory, name, content=b"PGDMP fake"):
    dump = directory / name
    dump.write_bytes(content)
    backup.checksum_file(dump).write_text(f"{backup.sha256(dump)}  {name}\n")
    return dump


def test_restore_refuses_a_dump_that_does_not_match_its_checksum(
    host_db, tmp_path, capsys
):
    dump = write_dump(tmp_path, "keel-20260101T000000Z.dump")
    dump.write_bytes(b"PGDMP changed")
    assert backup.main(["restore", str(dump), "--via", "host", "--yes"]) == 1
    assert "does not match its checksum" in capsys.readouterr().err


def test_restore_refuses_a_dump_without_a_checksum_file(host_db, tmp_path, capsys):
    dump = tmp_path / "keel-20260101T000000Z.dump"
    dump.write_bytes(b"PGDMP")
    assert backup.main(["restore", str(dump), "--via", "host", "--yes"]) == 1
    assert "sha256 is missing" in capsys.readouterr().err


def test_restore_without_yes_asks_and_needs_a_terminal(
    host_db, tmp_path, capsys, monkeypatch
):
    dump = write_dump(tmp_path, "keel-20260101T000000Z.dump")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert backup.main(["restore", str(dump), "--via", "host"]) == 1
    assert "YES=1" in capsys.readouterr().err


def test_restore_not_confirmed_changes_nothing(host_db, tmp_path, capsys, monkeypatch):
    dump = write_dump(tmp_path, "keel-20260101T000000Z.dump")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert backup.main(["restore", str(dump), "--via", "host"]) == 1
    assert "not confirmed" in capsys.readouterr().out


def test_prune_keeps_the_newest_backups_and_leaves_other_files(tmp_path):
    for day in range(1, 6):
        write_dump(tmp_path, f"keel-202601{day:02d}T000000Z.dump")
    (tmp_path / "notes.txt").write_text("mine")
    removed = backup.prune(tmp_path, keep=2)
    assert [path.name for path in removed] == [
        f"keel-202601{day:02d}T000000Z.dump" for day in (1, 2, 3)
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "keel-20260104T000000Z.dump",
        "keel-20260104T000000Z.dump.sha256",
        "keel-20260105T000000Z.dump",
        "keel-20260105T000000Z.dump.sha256",
        "notes.txt",
    ]


def test_keep_comes_from_keel_backup_keep_and_rejects_nonsense(monkeypatch):
    monkeypatch.delenv("KEEL_BACKUP_KEEP", raising=False)
    assert backup.keep_count(None) == 7
    monkeypatch.setenv("KEEL_BACKUP_KEEP", "3")
    assert backup.keep_count(None) == 3
    monkeypatch.setenv("KEEL_BACKUP_KEEP", "three")
    with pytest.raises(backup.BackupError, match="KEEL_BACKUP_KEEP"):
        backup.keep_count(None)


def test_host_mode_names_the_missing_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("KEEL_ENV_FILE", "")
    for name in ("DB_NAME", "DB_USER", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(backup.BackupError, match="DB_NAME, DB_USER, DB_HOST"):
        backup.choose_target("host")


DEPLOY = BACKEND.parent / "deploy"


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_backup_writes_what_make_restore_restores_and_prunes(
    host_db, tmp_path
):
    make_user("carol")
    two_old_backups(tmp_path)
    db = server()
    completed = subprocess.run(
        [
            "sh", str(DEPLOY / "backup.sh"), str(tmp_path),
            backup.find_client("pg_dump"), "--format=custom",
        ],
        env={
            "PATH": os.environ["PATH"],
            "KEEL_BACKUP_KEEP": "2",
            "PGHOST": db["DB_HOST"],
            "PGPORT": db["DB_PORT"],
            "PGUSER": db["DB_USER"],
            "PGPASSWORD": db["DB_PASSWORD"],
            "PGDATABASE": db["DB_NAME"],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "removed keel-20260101T000000Z.dump" in completed.stdout
    assert_kept_two_and_the_newest_restores(host_db, tmp_path, ["carol"])


def two_old_backups(directory):
    for day in (1, 2):
        write_dump(directory, f"keel-202601{day:02d}T000000Z.dump")


def assert_kept_two_and_the_newest_restores(host_db, directory, users):
    """Check a scheduled backup after two_old_backups() with a keep of 2."""
    dumps = sorted(path.name for path in directory.glob("*.dump"))
    assert len(dumps) == 2 and dumps[0] == "keel-20260102T000000Z.dump"
    assert not (directory / "keel-20260101T000000Z.dump.sha256").exists()
    newest = directory / dumps[1]
    backup.verify(newest)
    assert newest.stat().st_mode & 0o077 == 0, "a dump holds password hashes"
    with empty_database() as restored:
        host_db.setenv("DB_NAME", restored)
        assert backup.main(["restore", str(newest), "--via", "host", "--yes"]) == 0
        assert usernames(restored) == users


@pytest.mark.django_db(transaction=True)
def test_the_workers_daily_backup_writes_what_make_restore_restores_and_prunes(
    host_db, tmp_path, settings
):
    make_user("dave")
    two_old_backups(tmp_path)
    settings.KEEL = {
        **settings.KEEL,
        "BACKUP": {**settings.KEEL["BACKUP"], "DIR": str(tmp_path), "KEEP": 2},
    }
    backup_database(timestamp=0)
    assert_kept_two_and_the_newest_restores(host_db, tmp_path, ["dave"])


def test_the_workers_backup_is_off_without_a_directory(settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("backed up with KEEL_BACKUP_DIR unset")

    monkeypatch.setattr(backups, "backup", refuse)
    settings.KEEL = {**settings.KEEL, "BACKUP": {**settings.KEEL["BACKUP"], "DIR": ""}}
    backup_database(timestamp=0)


def test_the_kube_cronjob_runs_the_same_script_as_the_quadlet_timer():
    documents = [
        doc
        for doc in yaml.safe_load_all((DEPLOY / "kube-backup.yaml").read_text())
        if doc
    ]
    config_map = next(doc for doc in documents if doc["kind"] == "ConfigMap")
    assert config_map["data"]["backup.sh"] == (DEPLOY / "backup.sh").read_text()
    cronjob = next(doc for doc in documents if doc["kind"] == "CronJob")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["command"][:2] == ["sh", "/etc/keel/backup.sh"]
    service = (DEPLOY / "quadlet" / "keel-backup.service").read_text()
    assert "ExecStart=/bin/sh /etc/keel/backup.sh /var/lib/keel/backups " in service
    assert "podman exec keel-db " in service
    assert "OnCalendar=daily" in (DEPLOY / "quadlet" / "keel-backup.timer").read_text()


def test_host_mode_reads_the_password_from_db_password_file(monkeypatch, tmp_path):
    monkeypatch.setenv("KEEL_ENV_FILE", "")
    for name, value in {"DB_NAME": "keel", "DB_USER": "keel", "DB_HOST": "db"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    (tmp_path / "password").write_text("from a secret\n")
    monkeypatch.setenv("DB_PASSWORD_FILE", str(tmp_path / "password"))
    assert backup.host_from_environment()._env()["PGPASSWORD"] == "from a secret"
    monkeypatch.setenv("DB_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(backup.BackupError, match="DB_PASSWORD_FILE is"):
        backup.host_from_environment()
