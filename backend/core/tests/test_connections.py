"""A thread's database connection ends with the thread (core.connections)."""

import gc
import threading

import pytest

from django.db import connection, connections

from testing.network import wait_until


def backend_is_running(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(cursor.fetchone()[0])


def backend_pid_of_a_thread_that_ends() -> int:
    """Return the PostgreSQL backend of a connection opened by a finished thread."""
    opened: list[int] = []

    def work():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            opened.append(cursor.fetchone()[0])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return opened[0]


@pytest.mark.django_db(transaction=True)
def test_a_threads_connection_is_closed_when_the_thread_ends():
    # Without the collector, as between its rare full runs: a retired
    # server thread's connection used to stay open until one.
    gc.disable()
    try:
        pid = backend_pid_of_a_thread_that_ends()
        wait_until(lambda: not backend_is_running(pid), "the connection to close", 5)
    finally:
        gc.enable()


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_thread_is_counted_once_and_both_connections_end():
    pids = []

    def work():
        for _ in range(2):
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            connections["default"].close()
        from core.connections import _thread

        pids.append(len(_thread.connections.wrappers))

    gc.disable()
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        first, second, wrappers = pids
        assert wrappers == 1
        assert first != second
        wait_until(
            lambda: not backend_is_running(first) and not backend_is_running(second),
            "both connections to close",
            5,
        )
    finally:
        gc.enable()
