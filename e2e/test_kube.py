"""kube: deploy/kube.yaml played by Podman, as make kube plays it."""

import pytest

from e2e.hardening import HardenedBackend
from e2e.http import HTTPS, request
from e2e.mail import reset_mail_arrives
from e2e.shell import exec_in
from e2e.stacks import SMTP_HOST, KubePlay


def test_admin_answers_through_the_host_port(kube: KubePlay) -> None:
    response = request(kube.port, "GET", "/admin/", headers=HTTPS)
    assert response.status == 302


def test_api_root_is_404(kube: KubePlay) -> None:
    assert request(kube.port, "GET", "/api/", headers=HTTPS).status == 404


def test_backend_is_pointed_at_the_database_pod_by_name(kube: KubePlay) -> None:
    assert exec_in(kube.backend(), "printenv", "DB_HOST").stdout.strip() == "keel-db"


def test_backend_reaches_the_database_pod_and_finds_it_migrated(kube: KubePlay) -> None:
    migrated = exec_in(
        kube.backend(), "python", "manage.py", "migrate", "--check", check=False
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


class TestKubeBackendIsHardened(HardenedBackend):
    @pytest.fixture
    def backend(self, kube: KubePlay) -> str:
        return kube.backend()


def test_worker_is_up_and_a_reset_mail_arrives_through_it(kube: KubePlay) -> None:
    reset_mail_arrives(kube.port, kube.backend(), kube.worker(), SMTP_HOST)
