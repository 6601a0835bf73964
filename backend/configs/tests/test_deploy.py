"""
The deployments agree: Quadlet units and kube.yaml run what compose runs.

The compose side is podman-compose's own merge of podman-compose.yml and
podman-compose.prod.yml (`config`, dry run: no Podman needed), so the test
reads the production stack exactly as podman-compose would start it.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from scripts import podman_secrets

from configs.secret_files import SECRETS
from testing.environment import BACKEND

ROOT = BACKEND.parent
QUADLET = ROOT / "deploy" / "quadlet"
QUADLET_GENERATOR = Path("/usr/libexec/podman/quadlet")
# The Quadlet units read copies of the compose stack's env files.
ENV_FILE_COPIES = {
    # backend/.env less the secrets Podman mounts (scripts/podman_secrets.py).
    "backend/prod.env": "/etc/keel/backend.env",
    # backend/db.env less its password, likewise.
    "backend/db.prod.env": "/etc/keel/db.env",
}


def production_compose(*profiles):
    """
    Return the production stack as podman-compose merges and interpolates it,
    with the services of profiles too.
    """
    podman_compose = Path(sys.executable).with_name("podman-compose")
    completed = subprocess.run(
        [
            str(podman_compose),
            "--dry-run",
            "-f",
            "podman-compose.yml",
            "-f",
            "podman-compose.prod.yml",
            *(f"--profile={profile}" for profile in profiles),
            "config",
        ],
        cwd=ROOT,
        # No variables set: every ${VAR:-default} takes its default.
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return yaml.safe_load(completed.stdout)


def read_unit(path):
    """Return a unit file as {section: {key: [values]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return sections


def systemd_unescape(value):
    """Return value as systemd passes it on: $$ is a literal $."""
    return value.replace("$$", "$")


def compose_health_words(healthcheck):
    kind, *rest = healthcheck["test"]
    if kind == "CMD-SHELL":
        return shlex.split(rest[0])
    assert kind == "CMD"
    return rest


def podman_args(container):
    return shlex.split(" ".join(container.get("PodmanArgs", [])))


@pytest.fixture(scope="module")
def compose():
    return production_compose()["services"]


@pytest.fixture(scope="module")
def units():
    return {path.name: read_unit(path) for path in QUADLET.iterdir()}


# compose service -> Quadlet unit, for the two that run keel's image.
KEEL_CONTAINERS = [("backend", "keel-backend"), ("worker", "keel-worker")]


def kube_documents():
    return list(yaml.safe_load_all((ROOT / "deploy" / "kube.yaml").read_text()))


def kube_container(name):
    deployment = next(
        d
        for d in kube_documents()
        if d and d["kind"] == "Deployment" and d["metadata"]["name"] == name
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_quadlet_runs_the_compose_images_and_commands(compose, units):
    db = units["keel-db.container"]["Container"]
    assert db["Image"] == [compose["db"]["image"]]
    assert "Exec" not in db and "command" not in compose["db"]
    for service, unit in KEEL_CONTAINERS:
        container = units[f"{unit}.container"]["Container"]
        assert container["Image"] == [compose[service]["image"]]
        assert shlex.split(container["Exec"][0]) == compose[service]["command"]


def test_the_worker_runs_the_backends_image_and_env_file(compose):
    assert compose["worker"]["image"] == compose["backend"]["image"]
    assert compose["worker"]["env_file"] == compose["backend"]["env_file"]
    assert compose["worker"]["environment"] == compose["backend"]["environment"]
    assert compose["worker"]["command"] == ["/app/bin/worker"]


def test_quadlet_reads_the_same_env_files(compose, units):
    for service, unit in [*KEEL_CONTAINERS, ("db", "keel-db")]:
        container = units[f"{unit}.container"]["Container"]
        expected = [ENV_FILE_COPIES[path] for path in compose[service]["env_file"]]
        assert container["EnvironmentFile"] == expected


@pytest.mark.parametrize(("service", "unit"), KEEL_CONTAINERS)
def test_quadlet_sets_the_compose_environment_and_reaches_the_database(
    compose, units, service, unit
):
    container = units[f"{unit}.container"]["Container"]
    environment = dict(item.split("=", 1) for item in container["Environment"])
    # DB_HOST differs by design: each names its own database service.
    db_host = environment.pop("DB_HOST")
    assert db_host == units["keel-db.container"]["Container"]["ContainerName"][0]
    compose_environment = dict(compose[service]["environment"])
    assert compose_environment.pop("DB_HOST") == "db"
    assert compose_environment.pop("DB_PORT") == "5432"
    assert environment == compose_environment


def test_quadlet_keeps_the_database_in_the_same_volume(compose, units):
    (compose_volume,) = compose["db"]["volumes"]
    _, target = compose_volume.split(":", 1)
    (volume,) = units["keel-db.container"]["Container"]["Volume"]
    source, quadlet_target = volume.split(":", 1)
    assert quadlet_target == target
    assert source in units
    assert source.endswith(".volume")


def test_quadlet_puts_every_container_on_one_network(compose, units):
    networks = {
        tuple(units[name]["Container"]["Network"])
        for name in (
            "keel-backend.container",
            "keel-worker.container",
            "keel-db.container",
            "keel-proxy.container",
        )
    }
    assert networks == {("keel.network",)}
    assert "keel.network" in units
    # compose: every service on the project's default network.
    for service in ("backend", "worker", "db", "proxy"):
        assert "network_mode" not in compose[service]
        assert set(compose[service].get("networks", {"default": None})) == {"default"}


@pytest.mark.parametrize(("service", "unit"), [*KEEL_CONTAINERS, ("db", "keel-db")])
def test_quadlet_health_command_is_the_compose_one(compose, units, service, unit):
    container = units[f"{unit}.container"]["Container"]
    healthcheck = compose[service]["healthcheck"]
    quadlet_words = shlex.split(systemd_unescape(container["HealthCmd"][0]))
    assert quadlet_words == compose_health_words(healthcheck)
    for key, compose_key in (
        ("HealthInterval", "interval"),
        ("HealthTimeout", "timeout"),
        ("HealthRetries", "retries"),
        ("HealthStartPeriod", "start_period"),
    ):
        assert container.get(key) == (
            [str(healthcheck[compose_key])] if compose_key in healthcheck else None
        )


@pytest.mark.parametrize(("name", "unit"), [*KEEL_CONTAINERS, ("proxy", "keel-proxy")])
def test_quadlet_container_is_hardened_like_the_compose_one(compose, units, name, unit):
    backend = units[f"{unit}.container"]["Container"]
    service = compose[name]
    assert service["read_only"] is True and backend["ReadOnly"] == ["true"]
    assert service["cap_drop"] == ["ALL"] and backend["DropCapability"] == ["all"]
    assert "no-new-privileges" in service["security_opt"]
    assert backend["NoNewPrivileges"] == ["true"]
    assert f"{backend['User'][0]}:{backend['Group'][0]}" == service["user"]
    args = podman_args(backend)
    limits = service["deploy"]["resources"]["limits"]
    tmpfs = [args[i + 1] for i, arg in enumerate(args) if arg == "--tmpfs"]
    assert service["tmpfs"] == tmpfs
    assert args[args.index("--memory") + 1] == limits["memory"]
    assert args[args.index("--cpus") + 1] == limits["cpus"]
    assert args[args.index("--pids-limit") + 1] == str(service["pids_limit"])
    grace = int(service["stop_grace_period"].removesuffix("s"))
    assert args[args.index("--stop-timeout") + 1] == str(grace)


def test_only_the_proxy_is_published(compose, units):
    # bin/serve has no body-read timeout: it must never face clients itself.
    assert [name for name, service in compose.items() if service.get("ports")] == [
        "proxy"
    ]
    assert [
        name
        for name, unit in units.items()
        if "PublishPort" in unit.get("Container", {})
    ] == ["keel-proxy.container"]
    # The same container ports, whatever the host side (443 and 80 for Quadlet).
    compose_ports = {port.rsplit(":", 1)[1] for port in compose["proxy"]["ports"]}
    quadlet_ports = {
        port.rsplit(":", 1)[1]
        for port in units["keel-proxy.container"]["Container"]["PublishPort"]
    }
    assert compose_ports == quadlet_ports == {"8443", "8080"}


def test_quadlet_proxy_runs_the_compose_image_and_certificate_mount(compose, units):
    proxy = units["keel-proxy.container"]["Container"]
    assert proxy["Image"] == [compose["proxy"]["image"]]
    (compose_volume,) = compose["proxy"]["volumes"]
    (volume,) = proxy["Volume"]
    assert compose_volume.split(":", 1)[1] == volume.split(":", 1)[1]
    environment = dict(item.split("=", 1) for item in proxy["Environment"])
    assert set(environment) == set(compose["proxy"]["environment"])
    # Each names its own backend: the service, or the Quadlet container.
    backend = units["keel-backend.container"]["Container"]["ContainerName"][0]
    assert environment["KEEL_PROXY_UPSTREAM"] == f"{backend}:8000"
    assert compose["proxy"]["environment"]["KEEL_PROXY_UPSTREAM"] == "backend:8000"


def test_compose_runs_keel_replicas_backends_like_kube(compose):
    # podman-compose honours replicas only in mode replicated; KEEL_REPLICAS
    # is unset here, so this is its default, the same as kube.yaml's.
    deploy = compose["backend"]["deploy"]
    assert deploy["mode"] == "replicated"
    assert int(deploy["replicas"]) == 2
    kube = next(
        d
        for d in kube_documents()
        if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "keel-backend"
    )
    assert kube["spec"]["replicas"] == int(deploy["replicas"])


def test_compose_and_quadlet_mount_the_secrets_the_script_makes(compose, units):
    names = [podman_secrets.secret_name(v) for v in podman_secrets.VARIABLES]
    assert set(production_compose()["secrets"]) == set(podman_secrets.secret_names())
    for service, unit in KEEL_CONTAINERS:
        container = units[f"{unit}.container"]["Container"]
        assert compose[service]["secrets"] == container["Secret"] == names
        environment = dict(item.split("=", 1) for item in container["Environment"])
        for variable in podman_secrets.VARIABLES:
            # Blank, so that a value left in the env file cannot win or clash.
            assert environment[variable] == compose[service]["environment"][variable]
            assert environment[variable] == ""
            # NAME_FILE comes from prod.env, for the variables backend/.env sets.
            assert f"{variable}_FILE" not in environment
            assert f"{variable}_FILE" not in compose[service]["environment"]
        # Podman 4.3 places a second secret's file only in a writable /run/secrets.
        assert podman_secrets.SECRETS_DIR in compose[service]["tmpfs"]
        assert podman_secrets.SECRETS_DIR in podman_args(container)
    # The database's password too, read by PostgreSQL's image from the file
    # db.prod.env names; Quadlet runs no Redis.
    db = units["keel-db.container"]["Container"]
    assert compose["db"]["secrets"] == db["Secret"] == ["keel-db-password"]
    redis = production_compose("redis")["services"]["redis"]
    assert redis["secrets"] == ["keel-redis-password"]
    assert not redis.get("env_file")
    assert redis["environment"] == {
        "REDIS_PASSWORD_FILE": "/run/secrets/keel-redis-password"
    }


def test_every_secret_settings_read_from_a_file_is_mounted():
    assert podman_secrets.VARIABLES == SECRETS
    # One secret each, however the names are spelt.
    names = {podman_secrets.secret_name(v) for v in SECRETS}
    assert len(names) == len(SECRETS)
    assert podman_secrets.secret_name("KEEL_METRICS_TOKEN") == "keel-metrics-token"


def fake_podman(tmp_path):
    """
    Return a podman that logs its arguments, and the log; `secret create NAME
    -` writes its stdin to created/NAME.
    """
    log, created = tmp_path / "podman.log", tmp_path / "created"
    created.mkdir()
    podman = tmp_path / "podman"
    podman.write_text(
        f'#!/bin/sh\necho "$@" >> {log}\n'
        f'if [ "$2" = create ]; then cat > "{created}/$3"; fi\n'
    )
    podman.chmod(0o755)
    return str(podman), log


REDIS_PASSWORD = "redis-password"


def create(podman, env_file, prod_env, redis_password=REDIS_PASSWORD):
    """Run the script's create, with db.env and redis.env beside env_file."""
    folder = env_file.parent
    (folder / "db.env").write_text(
        "POSTGRES_DB=keel\nPOSTGRES_USER=keel\nPOSTGRES_PASSWORD=s3\n"
    )
    if redis_password is not None:
        (folder / "redis.env").write_text(f"REDIS_PASSWORD={redis_password}\n")
    return podman_secrets.create(
        podman,
        env_file,
        prod_env,
        db_env_file=folder / "db.env",
        db_prod_env_file=folder / "db.prod.env",
        redis_env_file=folder / "redis.env",
    )


def created_secrets(log):
    """Return {secret: content} of what the fake podman beside log created."""
    return {path.name: path.read_text() for path in log.with_name("created").iterdir()}


def test_the_secret_script_passes_values_on_stdin_and_prints_only_names(
    tmp_path, capsys
):
    podman, log = fake_podman(tmp_path)
    env_file = tmp_path / ".env"
    values = {v: f"value-of-{v}-{os.getpid()}" for v in podman_secrets.VARIABLES}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    assert create(podman, env_file, tmp_path / "prod.env") == 0
    calls = log.read_text()
    created = created_secrets(log)
    for variable, value in values.items():
        assert f"secret create {podman_secrets.secret_name(variable)} -" in calls
        assert value not in calls
        assert created[podman_secrets.secret_name(variable)] == value
    printed = capsys.readouterr()
    assert not [v for v in values.values() if v in printed.out + printed.err]
    assert not [v for v in values.values() if v in (tmp_path / "prod.env").read_text()]


def test_an_unset_secret_gets_an_empty_secret_and_no_name_file(tmp_path, capsys):
    podman, log = fake_podman(tmp_path)
    env_file, prod_env = tmp_path / ".env", tmp_path / "prod.env"
    env_file.write_text(
        "DJANGO_SECRET_KEY=s1\nJWT_SIGNING_KEY=s2\nDB_PASSWORD=s3\n"
        "SENTRY_DSN=\n# REDIS_URL=redis://:commented-out@redis:6379/0\n"
    )
    assert create(podman, env_file, prod_env, redis_password=None) == 0
    created = created_secrets(log)
    # compose and Quadlet mount every one, so each must exist: Redis's own too.
    names = {podman_secrets.secret_name(v) for v in SECRETS}
    assert set(created) == names | {"keel-redis-password"}
    assert created["keel-redis-password"] == "\n"  # no redis.env
    # Podman refuses an empty secret; settings would refuse this one as empty.
    assert created["keel-sentry-dsn"] == created["keel-redis-url"] == "\n"
    text = prod_env.read_text()
    assert "SENTRY_DSN" not in text and "REDIS_URL_FILE" not in text
    assert "DB_PASSWORD_FILE=/run/secrets/keel-db-password\n" in text
    assert "keel-sentry-dsn" in capsys.readouterr().out


def test_the_stacks_env_file_is_backend_env_less_the_secrets(tmp_path):
    env_file, prod_env = tmp_path / ".env", tmp_path / "prod.env"
    host_file = tmp_path / "sentry-dsn"
    host_file.write_text("https://key@sentry.example/1\n")
    env_file.write_text(
        "# a comment\nDJANGO_DEBUG=0\nDJANGO_SECRET_KEY=s1\n"
        "export JWT_SIGNING_KEY=s2\nDB_PASSWORD=s3\nDB_NAME=keel\n"
        "REDIS_URL=redis://:redis-password@redis:6379/0\nEMAIL_HOST_PASSWORD=\n"
        f"SENTRY_DSN_FILE={host_file}\n"
    )
    podman, log = fake_podman(tmp_path)
    assert create(podman, env_file, prod_env) == 0
    assert prod_env.read_text() == (
        "# a comment\nDJANGO_DEBUG=0\nDB_NAME=keel\n"
        "# The secrets, mounted by Podman (scripts/podman_secrets.py wrote these).\n"
        "DJANGO_SECRET_KEY_FILE=/run/secrets/keel-django-secret-key\n"
        "JWT_SIGNING_KEY_FILE=/run/secrets/keel-jwt-signing-key\n"
        "DB_PASSWORD_FILE=/run/secrets/keel-db-password\n"
        "REDIS_URL_FILE=/run/secrets/keel-redis-url\n"
        "SENTRY_DSN_FILE=/run/secrets/keel-sentry-dsn\n"
    )
    assert prod_env.stat().st_mode & 0o077 == 0
    # A NAME_FILE of the host's: its content goes into the secret.
    created = created_secrets(log)
    assert created["keel-sentry-dsn"] == "https://key@sentry.example/1"
    assert created["keel-redis-url"] == "redis://:redis-password@redis:6379/0"


def test_the_database_and_redis_take_their_passwords_from_secrets(tmp_path):
    env_file, prod_env = tmp_path / ".env", tmp_path / "prod.env"
    env_file.write_text("DJANGO_SECRET_KEY=s1\nJWT_SIGNING_KEY=s2\nDB_PASSWORD=s3\n")
    podman, log = fake_podman(tmp_path)
    assert create(podman, env_file, prod_env) == 0
    db_prod_env = tmp_path / "db.prod.env"
    assert db_prod_env.read_text() == (
        "POSTGRES_DB=keel\nPOSTGRES_USER=keel\n"
        "# The secrets, mounted by Podman (scripts/podman_secrets.py wrote these).\n"
        "POSTGRES_PASSWORD_FILE=/run/secrets/keel-db-password\n"
    )
    assert db_prod_env.stat().st_mode & 0o077 == 0
    created = created_secrets(log)
    assert created["keel-db-password"] == "s3"
    assert created["keel-redis-password"] == "redis-password"


def test_the_secret_script_needs_db_env(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SECRET_KEY=s1\nJWT_SIGNING_KEY=s2\nDB_PASSWORD=s3\n")
    missing = tmp_path / "db.env"
    assert podman_secrets.create("never-run", env_file, db_env_file=missing) == 1
    assert f"{missing} is missing; run: make env" in capsys.readouterr().err


def test_the_secret_script_names_a_missing_variable_not_a_value(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SECRET_KEY=not-printed-ever\n")
    assert podman_secrets.create("podman-is-never-run", env_file) == 1
    message = capsys.readouterr().err
    assert "JWT_SIGNING_KEY, DB_PASSWORD" in message
    assert "not-printed-ever" not in message


def test_the_secret_script_refuses_a_secret_set_both_ways(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DJANGO_SECRET_KEY=s1\nJWT_SIGNING_KEY=s2\nDB_PASSWORD=s3\n"
        "KEEL_METRICS_TOKEN=not-printed-ever\nKEEL_METRICS_TOKEN_FILE=/nowhere\n"
    )
    assert podman_secrets.create("podman-is-never-run", env_file) == 1
    message = capsys.readouterr().err
    assert "KEEL_METRICS_TOKEN and KEEL_METRICS_TOKEN_FILE are both set" in message
    assert "not-printed-ever" not in message


def test_every_shape_trusts_exactly_the_one_proxy(compose, units):
    assert compose["backend"]["environment"]["DJANGO_NUM_PROXIES"] == "1"
    environment = dict(
        item.split("=", 1)
        for item in units["keel-backend.container"]["Container"]["Environment"]
    )
    assert environment["DJANGO_NUM_PROXIES"] == "1"
    kube = {
        item["name"]: item.get("value")
        for item in kube_container("keel-backend")["env"]
    }
    assert kube["DJANGO_NUM_PROXIES"] == "1"


def test_the_proxy_template_is_filled_whole_by_its_entrypoint():
    template = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    entrypoint = (ROOT / "deploy" / "proxy" / "entrypoint.sh").read_text()
    placeholders = set(re.findall(r"@([A-Z_]+)@", template))
    substituted = set(re.findall(r'-e "s\|@([A-Z_]+)@\|', entrypoint))
    assert placeholders == substituted
    assert {"UPSTREAM", "RESOLVER", "CERT", "KEY"} <= placeholders


def test_the_proxy_buffers_bodies_and_bounds_the_slow_client():
    template = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    directives = dict(
        line.strip().rstrip(";").split(None, 1)
        for line in template.splitlines()
        if line.strip().endswith(";") and not line.strip().startswith("#")
    )
    assert directives["proxy_request_buffering"] == "on"
    assert directives["client_header_timeout"] == "10s"
    assert directives["client_body_timeout"] == "10s"
    # Retried on another replica only where nothing reached the app: nginx
    # refuses to retry a non-idempotent method unless told `non_idempotent`.
    assert "non_idempotent" not in directives["proxy_next_upstream"]
    headers = re.findall(r"proxy_set_header (\S+) (\S+);", template)
    assert ("X-Forwarded-Proto", "https") in headers
    assert ("X-Forwarded-For", "$proxy_add_x_forwarded_for") in headers


def test_the_proxy_limits_exactly_the_urls_that_check_a_password():
    # make security sends the floods (test_proxy_limits.py); this pins the
    # URLs, which nginx keys by a regex of its own.
    template = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    (pattern,) = re.findall(r"^\s*~(\S+) \$binary_remote_addr;$", template, re.M)
    limited = {
        path
        for path in (
            "/api/auth/token/", "/api/auth/register/", "/api/auth/password/change/",
            "/admin/login/", "/api/auth/token/refresh/", "/api/auth/me/",
            "/api/auth/token/blacklist/", "/api/auth/password/reset/",
            "/admin/", "/healthz", "/api/auth/token/x",
        )
        if re.search(pattern, path)
    }  # fmt: skip
    assert limited == {
        "/api/auth/token/",
        "/api/auth/register/",
        "/api/auth/password/change/",
        "/admin/login/",
    }
    assert "limit_req zone=keel_passwords burst=20 nodelay;" in template


def test_quadlet_has_no_bind_mount_or_published_database(compose, units):
    assert "volumes" not in compose["backend"]
    assert "volumes" not in compose["worker"]
    assert "ports" not in compose["db"]
    assert "Volume" not in units["keel-backend.container"]["Container"]
    assert "Volume" not in units["keel-worker.container"]["Container"]
    assert "PublishPort" not in units["keel-db.container"]["Container"]


def test_periodic_jobs_replace_the_systemd_timers(units):
    # flushexpiredtokens is a Procrastinate periodic job (accounts.tasks) now;
    # the backup timer stays, as it runs pg_dump beside the database.
    assert not [name for name in units if "flushexpiredtokens" in name]
    assert {"keel-backup.timer", "keel-backup.service"} <= set(units)


@pytest.mark.parametrize(
    ("service", "deployment"),
    [("backend", "keel-backend"), ("worker", "keel-worker")],
)
def test_kube_runs_the_compose_command_and_hardening(compose, service, deployment):
    container = kube_container(deployment)
    assert container["args"] == compose[service]["command"]
    environment = {item["name"]: item["value"] for item in container["env"]}
    names = {d["metadata"]["name"] for d in kube_documents() if d}
    assert environment.pop("DB_HOST") in names
    compose_environment = dict(compose[service]["environment"])
    assert environment.pop("DB_PORT") == compose_environment.pop("DB_PORT")
    compose_environment.pop("DB_HOST")
    # Podman's secrets as files, where kube reads its Secret (envFrom).
    for variable in podman_secrets.VARIABLES:
        assert compose_environment.pop(variable) == ""
    # compose sets REDIS_URL in backend/.env, kube beside DB_HOST.
    assert environment.pop("REDIS_URL").startswith("redis://keel-redis:")
    assert environment == compose_environment
    assert container["envFrom"] == kube_container("keel-backend")["envFrom"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["allowPrivilegeEscalation"] is False


def test_kube_takes_every_secret_from_its_secret_not_plain_env():
    # kube_secrets.py puts all of backend/.env in keel-backend (envFrom) but
    # what the manifest sets itself: a secret set there would be in the clear.
    for manifest in ("kube.yaml", "kube-cluster.yaml"):
        for document in yaml.safe_load_all((ROOT / "deploy" / manifest).read_text()):
            spec = (document or {}).get("spec", {})
            pod = spec.get("template", {}).get("spec", spec)
            for container in pod.get("containers", []):
                for item in container.get("env", []):
                    if item["name"] not in SECRETS:
                        continue
                    # Only kube's own Redis URL, which holds no credential.
                    assert item["name"] == "REDIS_URL", (manifest, item["name"])
                    url = urlsplit(item["value"])
                    assert url.username is None and url.password is None, manifest


def test_kube_worker_probe_is_the_compose_healthcheck(compose):
    probe = kube_container("keel-worker")["livenessProbe"]
    healthcheck = compose["worker"]["healthcheck"]
    assert probe["exec"]["command"] == compose_health_words(healthcheck)
    assert f"{probe['timeoutSeconds']}s" == healthcheck["timeout"]


def podman_version():
    podman = shutil.which("podman")
    if podman is None:
        return None
    output = subprocess.run(
        [podman, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+)\.(\d+)", output)
    return (int(match.group(1)), int(match.group(2))) if match else None


def test_quadlet_generator_accepts_the_units(tmp_path):
    version = podman_version()
    if version is None or version < (4, 4) or not QUADLET_GENERATOR.exists():
        pytest.skip(
            f"needs Podman 4.4 or newer with Quadlet (found {version or 'no podman'};"
            " Debian 12 ships 4.3, which has none)"
        )
    for unit in QUADLET.glob("*.*"):
        if unit.suffix in (".container", ".volume", ".network"):
            shutil.copy(unit, tmp_path)
    completed = subprocess.run(
        [str(QUADLET_GENERATOR), "-dryrun"],
        env={**os.environ, "QUADLET_UNIT_DIRS": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for name in (
        "keel-backend.service",
        "keel-worker.service",
        "keel-db.service",
        "keel-network.service",
    ):
        assert name in completed.stdout


def test_the_host_proxy_runs_the_shipped_template_with_only_its_ports_moved(tmp_path):
    from testing.proxy import TEMPLATE, render

    template = TEMPLATE.read_text()
    rendered = render(
        template, upstream="127.0.0.1:9000", run=tmp_path, http_port=1, https_port=2
    )
    assert not re.findall(r"@[A-Z_]+@", rendered)
    assert "listen 127.0.0.1:1 default_server;" in rendered
    assert "listen 127.0.0.1:2 ssl default_server;" in rendered
    # Every other line is the template's, filled in.
    changed = set(rendered.splitlines()) - set(template.splitlines())
    assert len(changed) == len(re.findall(r"@[A-Z_]+@|listen \d+", template))
    with pytest.raises(ValueError, match="NEW"):
        render(template + "# @NEW@\n", upstream="x", run=tmp_path, http_port=1,
               https_port=2)  # fmt: skip


def test_kube_backend_outlasts_its_endpoints_then_drains_within_its_grace():
    # A rollout removes the pod from the Service and stops it at once; the
    # preStop sleep keeps it answering while the endpoint removal spreads.
    deployment = next(
        d
        for d in kube_documents()
        if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "keel-backend"
    )
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    drain = re.search(
        r'--workers-kill-timeout "\$\{KEEL_SHUTDOWN_TIMEOUT:-(\d+)\}"',
        (ROOT / "backend" / "bin" / "serve").read_text(),
    )
    assert drain
    assert int(command[1]) + int(drain[1]) < spec["terminationGracePeriodSeconds"]
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {
        "maxUnavailable": 0,
        "maxSurge": 1,
    }
