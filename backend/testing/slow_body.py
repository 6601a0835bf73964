"""
The slow-body attack, and probes that time the server while it runs.

Each attacker sends a POST's headers, then its body a byte a second, holding
its connection for as long as the attack lasts; then it stops sending and
waits for the server to close on it, as nginx's client_body_timeout does and
bin/serve (granian) never does. Meanwhile probes GET the paths and time them.
"""

import socket
import ssl
import statistics
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """Where the attack and the probes go: plain HTTP, or HTTPS (any certificate)."""

    port: int
    tls: bool = False
    host: str = "127.0.0.1"

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        if not self.tls:
            return sock
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Attacker:
    """One connection's story: bytes of body sent, and how it ended."""

    connected: bool = False
    sent: int = 0
    # Cut while still sending, before the attack stopped.
    cut_early: bool = False
    # Seconds from its last byte to the server's closing it, and the status
    # line it sent first, if any; None when still open at the end of the wait.
    closed_after: float | None = None
    answer: str = ""


def slow_body(
    target: Target, attacker: Attacker, stop: threading.Event, wait: float
) -> None:
    """Send a login's body a byte a second until stop; then wait for the close."""
    try:
        with target.connect(timeout=5) as sock:
            attacker.connected = True
            # As a proxy would pass it on: a production backend answers a
            # request it sees as plain HTTP with a redirect, body unread.
            sock.sendall(
                b"POST /api/auth/token/ HTTP/1.1\r\n"
                + f"Host: 127.0.0.1:{target.port}\r\n".encode()
                + b"X-Forwarded-Proto: https\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 4096\r\n\r\n"
            )
            last_byte = time.monotonic()
            while not stop.wait(1.0):
                sock.sendall(b" ")
                last_byte = time.monotonic()
                attacker.sent += 1
            sock.settimeout(wait)
            try:
                received = b""
                while chunk := sock.recv(4096):
                    received += chunk
                attacker.answer = received.split(b"\r\n", 1)[0].decode(errors="replace")
                attacker.closed_after = time.monotonic() - last_byte
            except TimeoutError:
                pass  # Still open: the server waits for the body.
            except OSError:
                attacker.closed_after = time.monotonic() - last_byte
    except OSError:
        attacker.cut_early = attacker.connected


@dataclass(frozen=True)
class Probe:
    path: str
    seconds: float
    status: int | None


def probe(target: Target, path: str, headers: dict[str, str], timeout: float) -> Probe:
    """GET path on a new connection; None for the status if no answer in timeout."""
    started = time.monotonic()
    status: int | None = None
    try:
        with target.connect(timeout=timeout) as sock:
            lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{target.port}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            sock.sendall(("\r\n".join([*lines, "Connection: close", "", ""])).encode())
            head = sock.recv(4096)
            if head.startswith(b"HTTP/1.1 "):
                status = int(head.split()[1])
    except OSError:
        pass
    return Probe(path, time.monotonic() - started, status)


def under_attack(
    target: Target,
    probes: list[tuple[str, dict[str, str]]],
    *,
    attackers: int,
    seconds: float,
    probe_timeout: float,
    close_wait: float,
) -> tuple[list[Probe], list[Attacker]]:
    """
    Return the probes taken while attackers slow bodies go to target, for
    seconds, and each attacker's story, close_wait after they stopped sending.
    """
    stop = threading.Event()
    stories = [Attacker() for _ in range(attackers)]
    threads = [
        threading.Thread(target=slow_body, args=(target, story, stop, close_wait))
        for story in stories
    ]
    for thread in threads:
        thread.start()
    time.sleep(2)  # Every connection is open and sending.
    taken: list[Probe] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            taken += [probe(target, path, h, probe_timeout) for path, h in probes]
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=close_wait + 10)
    return taken, stories


def latency(taken: list[Probe], path: str) -> dict[str, float | int]:
    """Return path's probes: how many, how many answered, p50 and max in ms."""
    mine = [p for p in taken if p.path == path]
    seconds = [p.seconds * 1000 for p in mine]
    return {
        "probes": len(mine),
        "answered": sum(1 for p in mine if p.status is not None),
        "p50_ms": round(statistics.median(seconds), 1),
        "max_ms": round(max(seconds), 1),
    }
