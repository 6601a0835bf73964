"""configs/env.py's readers, directly: each value, each problem, no secret."""

import pytest

from configs.env import ConfigurationError, Env, read_environment


def test_read_environment_overlays_the_file_with_the_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("A=from_file\nB=from_file\nEMPTY=\n")
    assert read_environment({"A": "from_environment"}, env_file) == {
        "A": "from_environment",
        "B": "from_file",
        "EMPTY": "",
    }
    assert read_environment({"A": "x"}, tmp_path / "missing") == {"A": "x"}
    assert read_environment({"A": "x"}, None) == {"A": "x"}


def test_text_and_required_trim_and_default():
    env = Env({"SET": "  value  ", "BLANK": "   "})
    assert env.text("SET") == "value"
    assert env.text("BLANK", default="fallback") == "fallback"
    assert env.required("SET") == "value"
    assert env.required("BLANK", hint="Set it.") == ""
    assert env.problems == ["BLANK is not set. Set it."]


@pytest.mark.parametrize(
    ("value", "number", "problem"),
    [
        ("", 7, None),
        ("3", 3, None),
        ("10", 10, None),
        ("11", 7, "N must be a whole number of at least 1 and at most 10; got '11'."),
        ("0", 7, "N must be a whole number of at least 1 and at most 10; got '0'."),
        ("x", 7, "N must be a whole number of at least 1 and at most 10; got 'x'."),
    ],
)
def test_integer_bounds(value, number, problem):
    env = Env({"N": value})
    assert env.integer("N", default=7, minimum=1, maximum=10) == number
    assert env.problems == ([problem] if problem else [])


@pytest.mark.parametrize(
    ("value", "cron"),
    [("", "5 3 * * *"), ("0  4 * * 1", "0 4 * * 1"), ("*/15 * * * *", "*/15 * * * *")],
)
def test_cron_accepts_five_fields(value, cron):
    env = Env({"C": value})
    assert env.cron("C", default="5 3 * * *") == cron
    assert env.problems == []


@pytest.mark.parametrize("value", ["daily", "61 3 * * *", "5 3 * *", "0 0 0 * * *"])
def test_cron_refuses_anything_else(value):
    env = Env({"C": value})
    assert env.cron("C", default="5 3 * * *") == "5 3 * * *"
    assert env.problems[0].startswith("C must be a cron expression of five fields")


@pytest.mark.parametrize("value", ["5/min", "1/s", "100/hour", "2/day"])
def test_rate_accepts_drfs_syntax(value):
    env = Env({"R": value})
    assert env.rate("R", default="9/min") == value
    assert env.problems == []


@pytest.mark.parametrize("value", ["0/min", "5 per minute", "5/week", "/min"])
def test_rate_refuses_anything_else(value):
    env = Env({"R": value})
    assert env.rate("R", default="9/min") == "9/min"
    assert env.problems[0].startswith("R must be a rate")


def test_choice_and_time_zone():
    env = Env({"LEVEL": "LOUD", "TZ": "Nowhere/Land"})
    assert env.choice("LEVEL", ("INFO", "DEBUG"), default="INFO") == "INFO"
    assert env.time_zone("TZ", default="UTC") == "UTC"
    assert env.problems == [
        "LEVEL must be one of INFO, DEBUG; got 'LOUD'.",
        "TZ is 'Nowhere/Land', which is not a known time zone name "
        "(e.g. UTC or Asia/Ho_Chi_Minh).",
    ]


def test_origins_with_a_port_are_origins():
    env = Env({"O": "https://a.example.com:8443, http://localhost:3000"})
    assert env.origins("O") == ["https://a.example.com:8443", "http://localhost:3000"]
    assert env.problems == []


def test_a_weak_key_is_refused_only_when_strong_without_showing_it():
    weak = "short-but-random-Zq8"
    assert Env({"K": weak}).signing_key("K", strong=False) == weak
    env = Env({"K": weak})
    env.signing_key("K", strong=True)
    [problem] = env.problems
    assert problem.startswith("K is too weak for production")
    assert weak not in problem


def test_refuse_renamed_names_only_the_old_names_set():
    env = Env({"OLD": "1", "NEW": "1"})
    env.refuse_renamed({"OLD": "NEW", "GONE": "OTHER"})
    assert env.problems == [
        "OLD was renamed NEW: rename it where it is set (see CHANGELOG.md)."
    ]


def test_raise_for_problems_lists_every_problem_in_one_error():
    env = Env({})
    env.raise_for_problems()  # nothing recorded: nothing raised
    env.required("A")
    env.require_that(False, "B is wrong.")
    env.require_when(True, "C", "", why="when D is on")
    with pytest.raises(ConfigurationError) as error:
        env.raise_for_problems()
    assert error.value.problems == [
        "A is not set.",
        "B is wrong.",
        "C must be set when D is on.",
    ]
    assert str(error.value) == (
        "keel cannot start, fix the environment:\n"
        "  - A is not set.\n  - B is wrong.\n  - C must be set when D is on."
    )
