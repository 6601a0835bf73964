"""
The admission queue for password checks (accounts.password_checks): at most
its slots run at once, one running and one waiting per client, a bounded wait,
and a freed slot for the waiting client admitted least recently.
"""

import threading
import time

import pytest

from accounts.password_checks import PasswordCheckQueue


def wait_until(condition, what):
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.001)


class Clients:
    """Clients entering one queue from threads of their own, as requests do."""

    def __init__(self, queue):
        self.queue = queue
        self.admitted = []
        self.refused = []
        self.threads = []

    def enter(self, client):
        """Start client's entry and return once it runs, waits or is refused."""

        def run():
            if self.queue.enter(client):
                self.admitted.append(client)
            else:
                self.refused.append(client)

        before = len(self.queue.waiting()) + len(self.admitted) + len(self.refused)
        # A daemon, so that a failed test's waiters never hold up the run.
        thread = threading.Thread(target=run, daemon=True)
        self.threads.append(thread)
        thread.start()
        wait_until(
            lambda: (
                len(self.queue.waiting()) + len(self.admitted) + len(self.refused)
                > before
            ),
            f"{client} to run, wait or be refused",
        )

    def leave(self, client):
        """Let client's check finish; return who was admitted in its place."""
        before = len(self.admitted)
        waiting = len(self.queue.waiting())
        self.queue.leave(client)
        if len(self.queue.waiting()) < waiting:
            wait_until(lambda: len(self.admitted) > before, "the next client")
        return self.admitted[before:]

    def join(self):
        for thread in self.threads:
            thread.join()


@pytest.fixture
def clients():
    def make(slots=1, wait=10.0):
        return Clients(PasswordCheckQueue(slots=slots, wait=wait))

    return make


def test_a_free_slot_admits_at_once_and_a_freed_one_goes_to_the_waiter(clients):
    queue = clients(slots=1)
    queue.enter("192.0.2.1")
    queue.enter("192.0.2.2")
    assert queue.admitted == ["192.0.2.1"]
    assert queue.queue.waiting() == ["192.0.2.2"]
    assert queue.leave("192.0.2.1") == ["192.0.2.2"]
    queue.leave("192.0.2.2")
    queue.join()


def test_a_freed_slot_goes_to_the_client_served_least_recently(clients):
    queue = clients(slots=1)
    queue.enter("flood")
    queue.enter("flood")  # the flood's one waiter, first in line
    queue.enter("alice")
    queue.enter("bob")
    assert queue.queue.waiting() == ["flood", "alice", "bob"]
    # Never-served clients before the flood, in the order they came.
    assert queue.leave("flood") == ["alice"]
    assert queue.leave("alice") == ["bob"]
    assert queue.leave("bob") == ["flood"]
    # Alice, back while the flood runs, still goes before its next waiter.
    queue.enter("flood")
    queue.enter("alice")
    assert queue.leave("flood") == ["alice"]
    assert queue.leave("alice") == ["flood"]
    queue.leave("flood")
    queue.join()
    assert queue.refused == []


def test_one_client_holds_one_running_check_and_one_waiting_at_most(clients):
    queue = clients(slots=2)
    queue.enter("flood")
    # A second slot is free, but not for the same client: it waits.
    queue.enter("flood")
    assert queue.queue.waiting() == ["flood"]
    # A third from that client is refused at once, without waiting.
    queue.enter("flood")
    assert queue.refused == ["flood"]
    # The free slot is anyone else's.
    queue.enter("alice")
    assert queue.admitted == ["flood", "alice"]
    assert queue.leave("flood") == ["flood"]
    queue.leave("flood")
    queue.leave("alice")
    queue.join()


def test_a_waiter_is_refused_when_the_wait_runs_out(clients):
    queue = clients(slots=1, wait=0.01)
    queue.enter("192.0.2.1")
    queue.enter("192.0.2.2")
    wait_until(lambda: queue.refused == ["192.0.2.2"], "the wait to run out")
    assert queue.queue.waiting() == []
    # Its place is gone: the slot, once free, is free for anyone.
    queue.leave("192.0.2.1")
    queue.enter("192.0.2.3")
    assert queue.admitted == ["192.0.2.1", "192.0.2.3"]
    queue.leave("192.0.2.3")
    queue.join()


def test_no_wait_refuses_at_once_when_every_slot_is_taken(clients):
    queue = clients(slots=1, wait=0)
    queue.enter("192.0.2.1")
    queue.enter("192.0.2.2")
    assert queue.refused == ["192.0.2.2"]
    queue.leave("192.0.2.1")
    queue.join()


def test_the_queue_remembers_no_client_that_has_nothing_running_or_waiting():
    queue = PasswordCheckQueue(slots=1, wait=0)
    for number in range(100):
        assert queue.enter(f"10.0.0.{number}")
        queue.leave(f"10.0.0.{number}")
    assert queue._admitted_at == {}
