"""
The kube manifests hold what a real cluster needs, container by container.

`make lint` checks them against the Kubernetes API schemas (kubernetes-validate);
a schema accepts a container with no probe, no limit and root privileges, so
these tests hold the rest: every container of every workload in deploy/kube.yaml
and deploy/kube-cluster.yaml is probed, bounded and unprivileged.
"""

import pytest
import yaml

from testing.environment import BACKEND

DEPLOY = BACKEND.parent / "deploy"
MANIFESTS = ("kube.yaml", "kube-cluster.yaml", "kube-pgbouncer.yaml")
WORKLOADS = {"Deployment", "Job", "Pod", "StatefulSet", "DaemonSet", "CronJob"}
# The PostgreSQL image's entrypoint starts as root to take ownership of its
# volume, then drops to the postgres user, so only it may run as root, and only
# with the capabilities that takes. A managed PostgreSQL needs neither.
ROOT_AT_START = {"keel-db/db": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}}
# Variables that hold credentials: a manifest reads them from a Secret.
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN", "DSN")


def documents():
    """Return every object of the manifests, with the file it came from."""
    return [
        (name, document)
        for name in MANIFESTS
        for document in yaml.safe_load_all((DEPLOY / name).read_text())
        if document
    ]


def pod_spec(document):
    spec = document["spec"]
    if document["kind"] == "Pod":
        return spec
    if document["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec["template"]["spec"]


def containers():
    """Return (workload/container, kind, pod spec, container) for every container."""
    return [
        (f"{document['metadata']['name']}/{container['name']}", document, container)
        for _, document in documents()
        if document["kind"] in WORKLOADS
        for container in pod_spec(document)["containers"]
    ]


CONTAINERS = containers()
IDS = [name for name, _, _ in CONTAINERS]


def test_the_manifests_hold_the_workloads_a_deploy_needs():
    kinds = {
        (document["kind"], document["metadata"]["name"]) for _, document in documents()
    }
    assert {
        ("Deployment", "keel-backend"),
        ("Service", "keel-backend"),
        ("Job", "keel-migrate"),
        ("PodDisruptionBudget", "keel-backend"),
    } <= kinds


@pytest.mark.parametrize(("name", "document", "container"), CONTAINERS, ids=IDS)
def test_every_container_runs_unprivileged(name, document, container):
    pod = pod_spec(document).get("securityContext", {})
    security = container.get("securityContext", {})
    seccomp = security.get("seccompProfile") or pod.get("seccompProfile")
    assert seccomp == {"type": "RuntimeDefault"}
    assert security.get("allowPrivilegeEscalation") is False
    assert security.get("readOnlyRootFilesystem") is True
    capabilities = security.get("capabilities", {})
    assert capabilities.get("drop") == ["ALL"]
    if name in ROOT_AT_START:
        assert set(capabilities.get("add", [])) == ROOT_AT_START[name]
    else:
        assert "add" not in capabilities
        assert security.get("runAsNonRoot", pod.get("runAsNonRoot")) is True
        assert pod.get("runAsUser", 0) != 0


@pytest.mark.parametrize(("name", "document", "container"), CONTAINERS, ids=IDS)
def test_every_container_has_requests_and_limits(name, document, container):
    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        assert set(resources.get(bound, {})) >= {"cpu", "memory"}, bound


def served(document):
    """Return whether a Service sends traffic to the workload's pods."""
    pod = document if document["kind"] == "Pod" else document["spec"]["template"]
    labels = pod["metadata"]["labels"]
    return any(
        other["kind"] == "Service"
        and other["spec"]["selector"].items() <= labels.items()
        for _, other in documents()
    )


@pytest.mark.parametrize(("name", "document", "container"), CONTAINERS, ids=IDS)
def test_every_long_running_container_is_probed(name, document, container):
    if document["kind"] in {"Job", "CronJob"}:
        assert pod_spec(document)["restartPolicy"] in {"Never", "OnFailure"}
        return
    assert "livenessProbe" in container
    if served(document):
        # Readiness gates the Service's traffic.
        assert "readinessProbe" in container
        if document["kind"] == "Deployment":
            # A slow start (the wait for the database, the migrations) is
            # not a failed liveness check.
            assert "startupProbe" in container


@pytest.mark.parametrize(("name", "document", "container"), CONTAINERS, ids=IDS)
def test_credentials_are_referenced_not_inlined(name, document, container):
    for item in container.get("env", []):
        if any(word in item["name"] for word in SECRET_WORDS):
            assert "value" not in item, item["name"]
    for source in container.get("envFrom", []):
        assert set(source) == {"secretRef"}


def test_no_secret_is_committed_in_a_manifest():
    assert [n for n, document in documents() if document["kind"] == "Secret"] == []


def test_backend_runs_two_replicas_rolled_one_at_a_time():
    (deployment,) = [
        document
        for _, document in documents()
        if document["kind"] == "Deployment"
        and document["metadata"]["name"] == "keel-backend"
    ]
    assert deployment["spec"]["replicas"] == 2
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0
    (container,) = pod_spec(deployment)["containers"]
    # Podman publishes every containerPort on the host, where replicas would
    # all claim the same one; the Service targets the port by number.
    assert "ports" not in container


def test_disruption_budget_covers_the_backend_pods():
    by_kind = {
        document["kind"]: document
        for _, document in documents()
        if document["metadata"]["name"] == "keel-backend"
    }
    labels = by_kind["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selector = by_kind["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert by_kind["PodDisruptionBudget"]["spec"]["minAvailable"] == 1


def test_migration_job_runs_the_backend_image_and_environment():
    objects = {
        (document["kind"], document["metadata"]["name"]): document
        for _, document in documents()
    }
    (job,) = pod_spec(objects["Job", "keel-migrate"])["containers"]
    (backend,) = pod_spec(objects["Deployment", "keel-backend"])["containers"]
    assert job["image"] == backend["image"]
    assert job["env"] == backend["env"]
    assert job["envFrom"] == backend["envFrom"]
    # The image's entrypoint runs migrate_locked before the command.
    assert job["args"] == ["python", "manage.py", "migrate", "--check"]


def test_worker_runs_the_backend_image_and_environment():
    objects = {
        (document["kind"], document["metadata"]["name"]): document
        for _, document in documents()
    }
    (worker,) = pod_spec(objects["Deployment", "keel-worker"])["containers"]
    (backend,) = pod_spec(objects["Deployment", "keel-backend"])["containers"]
    assert worker["image"] == backend["image"]
    # The same database, Redis and Secret: a job sees what a request saw.
    assert worker["env"] == backend["env"]
    assert worker["envFrom"] == backend["envFrom"]
    assert worker["args"] == ["/app/bin/worker"]
