"""
keel's proxy run on this machine: the shipped template (deploy/proxy/nginx.conf)
under Debian's nginx, in front of a server on loopback.

The template is filled in as its entrypoint (deploy/proxy/entrypoint.sh) fills
it, with a self-signed certificate made the same way; only its two listen
ports move, to free ones on 127.0.0.1, so that it tests the configuration the
image ships, not a copy of it.

    with HostProxy("127.0.0.1:8000") as proxy:
        ...  # https://127.0.0.1:{proxy.https_port}/
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from testing.environment import BACKEND
from testing.network import free_port, listening, wait_until

TEMPLATE = BACKEND.parent / "deploy" / "proxy" / "nginx.conf"
NGINX = Path("/usr/sbin/nginx")
# The template's listen lines, and what each becomes on this machine.
LISTENS = {
    "listen 8080 default_server;": "listen 127.0.0.1:{http_port} default_server;",
    "listen 8443 ssl default_server;": (
        "listen 127.0.0.1:{https_port} ssl default_server;"
    ),
}


class ProxyNotFound(Exception):
    """nginx or openssl is not installed here."""


def render(
    template: str, *, upstream: str, run: Path, http_port: int, https_port: int
) -> str:
    """
    Return template filled in for a proxy of upstream on this machine, its files
    under run; raise ValueError if the template has changed past recognising.
    """
    values = {
        "UPSTREAM": upstream,
        # Never asked: an address needs no resolving, as a name in a container does.
        "RESOLVER": "127.0.0.1",
        "PORT_SUFFIX": f":{https_port}",
        "CERT": str(run / "tls" / "tls.crt"),
        "KEY": str(run / "tls" / "tls.key"),
        "RUN": str(run),
    }
    unknown = set(re.findall(r"@([A-Z_]+)@", template)) - set(values)
    if unknown:
        raise ValueError(
            f"{TEMPLATE} has placeholders render() does not fill: {unknown}"
        )
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    for line, replacement in LISTENS.items():
        if template.count(line) != 1:
            raise ValueError(f"{TEMPLATE} should have `{line}` once")
        template = template.replace(
            line, replacement.format(http_port=http_port, https_port=https_port)
        )
    return template


class HostProxy:
    """nginx with keel's proxy configuration, in front of upstream (host:port)."""

    def __init__(self, upstream: str) -> None:
        for tool in (str(NGINX), "openssl"):
            if shutil.which(tool) is None:
                raise ProxyNotFound(f"{tool} is not installed (apt-get install nginx)")
        self.upstream = upstream
        self.http_port, self.https_port = free_port(), free_port()
        # Not under pytest's tmp_path, whose folders are private to their
        # owner: nginx's workers run as nobody and write the body buffers here.
        self.run = Path(tempfile.mkdtemp(prefix="keel-proxy-"))
        self.run.chmod(0o755)
        self.log = self.run / "nginx.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "HostProxy":
        (self.run / "tls").mkdir()
        (self.run / "temp").mkdir()
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(self.run / "tls" / "tls.key"),
                "-out", str(self.run / "tls" / "tls.crt"),
            ],
            capture_output=True, check=True,
        )  # fmt: skip
        config = self.run / "nginx.conf"
        config.write_text(
            render(
                TEMPLATE.read_text(),
                upstream=self.upstream,
                run=self.run,
                http_port=self.http_port,
                https_port=self.https_port,
            )
        )
        self.process = subprocess.Popen(
            [str(NGINX), "-e", "stderr", "-c", str(config), "-g", "daemon off;"],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log.read_text()}")
            return listening(self.https_port)

        wait_until(up, "nginx to listen", timeout=15)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM is nginx's fast stop; the requests in flight do not matter.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            # A worker outlives a killed master; the session holds them all.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.run, ignore_errors=True)

    def __enter__(self) -> "HostProxy":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
