"""
`make roll` (scripts/roll.py): what it reads of Podman and the proxy, and its
errors. make e2e runs it for real, on 3 replicas under a client stream.
"""

import json
import re

import pytest
from scripts import roll

from testing.environment import BACKEND

ROOT = BACKEND.parent


def test_the_wait_after_a_swap_outlasts_the_proxys_resolver_cache():
    nginx = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    (valid,) = re.findall(r"^\s*resolver .* valid=(\d+)s", nginx, re.M)
    assert int(valid) < roll.PROXY_RESOLVER_VALID


def test_replicas_are_numbered_by_podman_composes_suffix():
    assert roll.replica_number("keel_backend_12") == 12


def test_a_container_of_another_name_is_refused_with_its_name():
    with pytest.raises(roll.RollError, match="keel_backend_1-old"):
        roll.replica_number("keel_backend_1-old")


def test_attachments_keep_the_aliases_but_not_the_old_containers_id(monkeypatch):
    inspected = {
        "Id": "0123456789ab" + "f" * 52,
        "NetworkSettings": {
            "Networks": {
                "keel_default": {
                    "IPAddress": "10.89.0.7",
                    "MacAddress": "aa:bb:cc:dd:ee:ff",
                    "Aliases": ["backend", "0123456789ab"],
                }
            }
        },
    }
    monkeypatch.setattr(roll, "podman", lambda *args: json.dumps([inspected]))
    assert roll.attachments("keel_backend_1") == [
        roll.Attachment("keel_default", "10.89.0.7", "aa:bb:cc:dd:ee:ff", ("backend",))
    ]


def test_a_stack_that_is_not_running_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(roll, "replicas", lambda project, service="backend": [])
    assert roll.main(["--project", "keel", "podman-compose"]) == 1
    error = capsys.readouterr().err
    assert "no running backend container in the compose project keel" in error
    assert "make prod" in error


def test_a_stack_without_the_proxy_is_not_rolled(monkeypatch, capsys):
    running = {"backend": ["keel_backend_1"], "proxy": []}
    monkeypatch.setattr(
        roll, "replicas", lambda project, service="backend": running[service]
    )
    assert roll.main(["--project", "keel", "podman-compose"]) == 1
    assert "not the production stack" in capsys.readouterr().err


def test_the_compose_command_line_is_required(capsys):
    with pytest.raises(SystemExit) as exit:
        roll.main(["--project", "keel"])
    assert exit.value.code == 2
    assert "podman-compose command line" in capsys.readouterr().err


def test_a_host_without_iptables_is_told_what_to_install(monkeypatch, capsys):
    running = {"backend": ["keel_backend_1"], "proxy": ["keel_proxy_1"]}
    monkeypatch.setattr(
        roll, "replicas", lambda project, service="backend": running[service]
    )
    monkeypatch.setattr("shutil.which", lambda tool: None)
    assert roll.main(["--project", "keel", "podman-compose"]) == 1
    assert "needs nsenter and iptables on the host" in capsys.readouterr().err


def test_environment_reads_the_containers_last_value_or_none(monkeypatch):
    env = ["PATH=/usr/bin", "DB_POOLER_HOST=pgbouncer", "EMPTY="]
    monkeypatch.setattr(roll, "podman", lambda *args: json.dumps(env))
    assert roll.environment("keel_backend_1", "DB_POOLER_HOST") == "pgbouncer"
    assert roll.environment("keel_backend_1", "EMPTY") == ""
    assert roll.environment("keel_backend_1", "DB_HOST") == ""
