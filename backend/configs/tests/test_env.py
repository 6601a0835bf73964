"""configs/env.py's readers, directly: each value, each problem, no secret."""

import pytest

from configs.env import (
    SECRETS,
    ConfigurationError,
    Env,
    read_environment,
    read_secret_files,
)


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


def test_a_secret_file_is_read_with_one_trailing_newline_dropped(tmp_path):
    secret = tmp_path / "db_password"
    secret.write_text("pass word \n\n")
    values, problems = read_secret_files({"DB_PASSWORD_FILE": str(secret)})
    assert values["DB_PASSWORD"] == "pass word \n"
    assert problems == []
    secret.write_text("crlf\r\n")
    assert read_secret_files({"DB_PASSWORD_FILE": str(secret)})[0]["DB_PASSWORD"] == (
        "crlf"
    )


def test_env_reads_every_secret_from_its_file(tmp_path):
    environment = {}
    for name in SECRETS:
        (tmp_path / name).write_text(f"{name.lower()}-value\n")
        environment[f"{name}_FILE"] = str(tmp_path / name)
    env = Env(environment)
    assert {name: env.text(name) for name in SECRETS} == {
        name: f"{name.lower()}-value" for name in SECRETS
    }
    assert env.problems == []


def test_a_variable_that_is_no_secret_is_not_read_from_a_file(tmp_path):
    (tmp_path / "hosts").write_text("example.com")
    env = Env({"DJANGO_ALLOWED_HOSTS_FILE": str(tmp_path / "hosts")})
    assert env.csv("DJANGO_ALLOWED_HOSTS") == []


def test_a_secret_set_both_ways_is_refused_without_showing_it(tmp_path):
    (tmp_path / "key").write_text("from-the-file")
    env = Env(
        {
            "JWT_SIGNING_KEY": "from-the-env",
            "JWT_SIGNING_KEY_FILE": str(tmp_path / "key"),
        }
    )
    [problem] = env.problems
    assert problem.startswith("JWT_SIGNING_KEY and JWT_SIGNING_KEY_FILE are both set")
    assert "from-the" not in problem


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: None, "No such file or directory"),
        (lambda path: path.mkdir(), "Is a directory"),
        (lambda path: path.write_bytes(b"\xff\xfe"), "not UTF-8 text"),
        (lambda path: path.write_text("\n"), "which is empty"),
    ],
    ids=["missing", "a directory", "not text", "empty"],
)
def test_an_unreadable_secret_file_is_a_problem_naming_the_variable(
    tmp_path, make, reason
):
    path = tmp_path / "secret"
    make(path)
    env = Env({"DB_PASSWORD_FILE": str(path)})
    [problem] = env.problems
    assert problem.startswith(f"DB_PASSWORD_FILE is {str(path)!r}")
    assert reason in problem
