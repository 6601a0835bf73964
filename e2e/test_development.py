"""development: runserver on the bind-mounted source, as make up runs it."""

import shutil

from e2e.http import HTTPS, answers, request
from e2e.mail import reset_mail_arrives
from e2e.shell import exec_in, podman, run, wait_until
from e2e.stacks import DEV_OWNER, Stack


def test_runserver_redirects_admin_to_its_login(development: Stack) -> None:
    response = request(development.port, "GET", "/admin/", headers=HTTPS)
    assert response.status == 302


def test_files_the_dev_server_creates_belong_to_the_checkouts_owner(
    development: Stack,
) -> None:
    exec_in(
        development.container("backend"), "python", "manage.py", "startapp", "e2eprobe"
    )
    created = development.workspace / "backend" / "e2eprobe"
    try:
        models = (created / "models.py").stat()
        assert (models.st_uid, models.st_gid) == DEV_OWNER, "not the owner's, root's?"
    finally:
        shutil.rmtree(created, ignore_errors=True)


def test_runserver_reloads_when_the_source_changes(development: Stack) -> None:
    backend = development.container("backend")
    urls = development.workspace / "backend" / "api" / "urls.py"
    urls.write_text(urls.read_text() + "\n# touched by make e2e\n")
    wait_until(
        "runserver to reload the edited source",
        lambda: "changed, reloading" in run("podman", "logs", backend).stderr,
        timeout=30,
    )
    wait_until("runserver after its reload", answers(development.port), timeout=60)


def test_database_is_published_on_loopback_only(development: Stack) -> None:
    published = podman("port", development.container("db"))
    db_port = development.env["DB_PUBLISH_PORT"]
    assert published == f"5432/tcp -> 127.0.0.1:{db_port}"


def test_worker_is_up_and_a_reset_mail_arrives_through_it(development: Stack) -> None:
    reset_mail_arrives(
        development.port,
        development.container("backend"),
        development.container("worker"),
        development.container("keel-smtp"),
    )
