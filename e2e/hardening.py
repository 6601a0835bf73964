"""
The checks, from inside, that a backend container runs unprivileged and
read-only: shared by the production stack and the kube play, whose test
modules subclass HardenedBackend and provide its `backend` fixture.
"""

from e2e.shell import exec_in


class HardenedBackend:
    """Checks on the container a subclass's `backend` fixture names."""

    def test_backend_runs_as_uid_1000(self, backend: str) -> None:
        assert exec_in(backend, "id", "-u").stdout.strip() == "1000"

    def test_app_cannot_be_written(self, backend: str) -> None:
        denied = exec_in(backend, "touch", "/app/probe", check=False)
        assert denied.returncode != 0
        assert "Read-only" in denied.stderr

    def test_tmpfs_on_tmp_is_writable(self, backend: str) -> None:
        # The container's /tmp, not the host's.
        probe = "/tmp/probe"  # noqa: S108
        assert exec_in(backend, "touch", probe, check=False).returncode == 0

    def test_server_has_no_capabilities(self, backend: str) -> None:
        status = exec_in(backend, "cat", "/proc/1/status").stdout
        assert "CapEff:\t0000000000000000" in status

    def test_server_cannot_gain_privileges(self, backend: str) -> None:
        status = exec_in(backend, "cat", "/proc/1/status").stdout
        assert "NoNewPrivs:\t1" in status

    def test_server_runs_under_a_seccomp_filter(self, backend: str) -> None:
        # 2 is SECCOMP_MODE_FILTER: the runtime's default profile is loaded.
        status = exec_in(backend, "cat", "/proc/1/status").stdout
        assert "Seccomp:\t2" in status

    def test_granian_is_pid_1(self, backend: str) -> None:
        command = exec_in(backend, "cat", "/proc/1/cmdline").stdout.replace("\0", " ")
        assert "granian --interface wsgi configs.wsgi:application" in command
