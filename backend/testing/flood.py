"""
A flood of one request from many keep-alive connections, in a process of its
own (so that its threads take no interpreter time from the clients a test
measures), counting the answers by status.

    python -m testing.flood PORT PATH BODY --connections 16 --source 127.0.0.2

--source is a comma-separated list of local addresses to connect from, taken
in turn by the connections (one per address: a flood from as many clients);
--scheme https speaks TLS (to keel's proxy), taking any certificate.

It runs until SIGTERM or --seconds, then prints {"status": count, ...} as
JSON, with "error" for requests that got no answer. Run it with Flood.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from types import FrameType
from typing import Any

from testing.environment import BACKEND
from testing.http import LiveClient


def flood(
    client: LiveClient, path: str, body: str, stop: threading.Event
) -> Counter[str]:
    """
    POST body to path on one keep-alive connection after another until stop;
    count the answers by status.

    It speaks HTTP/1.1 on a bare socket, a prepared request and only as much
    parsing as finding each answer's end takes, so that it costs the machine
    it shares with the server little more than an attacker's own would.
    """
    counts: Counter[str] = Counter()
    payload = body.encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {client.host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    while not stop.is_set():
        try:
            connection = socket.create_connection(
                (client.host, client.port or 80),
                timeout=client.timeout,
                source_address=(client.source, 0) if client.source else None,
            )
            if client.tls:
                connection = client.tls_context().wrap_socket(connection)
        except OSError:
            counts["error"] += 1
            stop.wait(0.01)  # not a busy loop while the server is away
            continue
        buffer = b""
        try:
            while not stop.is_set():
                connection.sendall(request)
                while b"\r\n\r\n" not in buffer:
                    buffer += _received(connection)
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = _content_length(head)
                while len(buffer) < length:
                    buffer += _received(connection)
                buffer = buffer[length:]
                counts[head[9:12].decode()] += 1
                if b"\r\nconnection: close" in head.lower():
                    break
        except OSError:
            counts["error"] += 1
        finally:
            connection.close()
    return counts


def _received(connection: socket.socket) -> bytes:
    data = connection.recv(65536)
    if not data:
        raise ConnectionResetError("the server closed the connection")
    return data


def _content_length(head: bytes) -> int:
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    raise ConnectionError("an answer without Content-Length")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("body")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--source", default="")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--scheme", choices=["http", "https"], default="http")
    options = parser.parse_args(argv)
    sources = options.source.split(",")
    stop = threading.Event()

    def stop_on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_on_signal)
    totals: Counter[str] = Counter()
    lock = threading.Lock()

    def connection(source: str) -> None:
        client = LiveClient.on_port(
            options.port, timeout=30, source=source, tls=options.scheme == "https"
        )
        counts = flood(client, options.path, options.body, stop)
        with lock:
            totals.update(counts)

    threads = [
        threading.Thread(target=connection, args=(sources[number % len(sources)],))
        for number in range(options.connections)
    ]
    for thread in threads:
        thread.start()
    stop.wait(options.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    # What the flood cost this machine's CPU, which the server shares here.
    times = os.times()
    totals["cpu_ms"] = round((times.user + times.system) * 1000)
    print(json.dumps(dict(totals)))


class Flood:
    """A running flood (testing.flood in a subprocess); stop() returns its counts."""

    def __init__(self, port: int, path: str, data: Any, **options: object) -> None:
        arguments = [f"--{name}={value}" for name, value in options.items()]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "testing.flood",
                str(port),
                path,
                json.dumps(data),
                *arguments,
            ],
            cwd=BACKEND,
            stdout=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> dict[str, int]:
        """Stop the flood; return its answers by status and its CPU time, cpu_ms."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        counts: dict[str, int] = json.loads(output)
        return counts

    def __enter__(self) -> "Flood":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    main()
