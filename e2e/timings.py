"""
Where make e2e's time goes: a pytest plugin that times each step and phase.

A step is a piece of set-up or tear-down a fixture runs (building an image,
bringing a stack up, taking it down), timed with Timings.step. A phase is a
test module: the time its tests take, less the steps they set off. At the end
of the run both appear in order in a short table, with the figures measured
on the way (Timings.figure) and the total, just above pytest's closing line.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


class Timings:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.monotonic()
        self.rows: list[tuple[str, float]] = []
        self.figures: list[str] = []
        self.phase_rows: dict[str, int] = {}
        self.in_steps = 0.0
        self.depth = 0

    def say(self, text: str) -> None:
        """Write text to the terminal now, past pytest's output capture."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is None:
            reporter.write_line(text)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(text)

    def note(self, text: str) -> None:
        """Write a line of detail under the current step, now."""
        self.say(f"    {text}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as one row of the table; a step inside a step is not."""
        self.say(f"e2e: {name}")
        self.depth += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth:
                seconds = time.monotonic() - started
                self.rows.append((name, seconds))
                self.in_steps += seconds

    def figure(self, text: str) -> None:
        """Record a measurement, for the table's head and the terminal now."""
        self.figures.append(text)
        self.say(f"e2e: figure: {text}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Iterator[None]:
        started, in_steps = time.monotonic(), self.in_steps
        try:
            return (yield)
        finally:
            spent = time.monotonic() - started - (self.in_steps - in_steps)
            self.add_to_phase(phase_of(item), spent)

    def add_to_phase(self, phase: str, seconds: float) -> None:
        if phase not in self.phase_rows:
            self.phase_rows[phase] = len(self.rows)
            self.rows.append((phase, 0.0))
        index = self.phase_rows[phase]
        self.rows[index] = (phase, self.rows[index][1] + seconds)

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter
    ) -> None:
        if not self.rows:
            return
        terminalreporter.write_sep("=", "e2e: where the time went")
        for text in self.figures:
            terminalreporter.write_line(f"  figure: {text}")
        for name, seconds in self.rows:
            terminalreporter.write_line(f"  {seconds:7.1f} s  {name}")
        total = time.monotonic() - self.started
        terminalreporter.write_line(f"  {total:7.1f} s  total")


def phase_of(item: pytest.Item) -> str:
    """Return the phase a test belongs to: its module docstring's first line."""
    module = getattr(item, "module", None)
    doc = (getattr(module, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else item.nodeid.split("::")[0]
