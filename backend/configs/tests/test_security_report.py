"""scripts/security.py: the table `make security` prints from the tests' outcomes."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location(
        "security", ROOT / "scripts" / "security.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def check(report):
    return report.Check(
        "a check",
        ("backend/x/tests/test_a.py::test_it", "backend/x/tests/test_b.py::test_too"),
        lambda results: f"n={sum(r.properties['n'] for r in results)}",
    )


def results(report, *outcomes, **properties):
    return [
        report.Result(
            f"backend/x/tests/test_a.py::test_it[{i}]",
            outcome,
            "no Redis here" if outcome == "skipped" else "",
            dict(properties),
        )
        for i, outcome in enumerate(outcomes)
    ]


def test_a_row_passes_with_its_figure_when_every_test_passed(report, check):
    assert report.row(check, results(report, "passed", "passed", n=2)) == (
        "pass",
        "n=4",
    )


def test_a_row_fails_naming_a_failed_test(report, check):
    verdict, figure = report.row(check, results(report, "passed", "failed", n=1))
    assert verdict == "FAIL"
    assert figure == "1 of 2 tests failed: backend/x/tests/test_a.py::test_it[1]"


def test_a_row_is_skipped_only_when_every_test_was(report, check):
    assert report.row(check, results(report, "skipped", "skipped")) == (
        "skip",
        "no Redis here",
    )
    assert report.row(check, results(report, "skipped", "passed", n=1)) == (
        "pass",
        "n=1",
    )


def test_a_row_whose_tests_did_not_run_fails(report, check):
    other = report.Result("backend/x/tests/test_a.py::test_it_differently")
    assert report.row(check, [other]) == ("FAIL", "did not run")


def test_a_row_without_its_figures_fails(report, check):
    assert report.row(check, results(report, "passed")) == (
        "FAIL",
        "passed without recording its figures",
    )


def test_every_check_names_tests_that_exist(report):
    for check in report.CHECKS:
        for test in check.tests:
            path, _, name = test.partition("::")
            name = name.partition("[")[0]  # one parameter of the test
            source = (ROOT / path).read_text()
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), test
