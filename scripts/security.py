"""
`make security`: run the tests behind keel's security and reliability promises
and print one table of them: check, result, figure.

Every row is one or more pytest tests; a test puts its figures in its report
with pytest's ``record_property`` fixture. All rows' tests run in one pytest
session, fuzzing with the deeper Hypothesis profile ("security"), and a small
plugin collects each test's outcome and figures. Adding a check is one entry in
CHECKS. Only checks that need no containers belong here.

A row passes when all its tests pass, is skipped when all of them were skipped
(a service it needs is missing here; the reason is shown), and fails otherwise,
a test that did not run included. The exit status is 1 when any row fails.

    python scripts/security.py                 every row (make security)
    python scripts/security.py slow bodies     the rows whose name holds the words
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECURITY = "backend/configs/tests/test_security.py"
SERVER = "backend/configs/tests/test_server.py"
LOAD = "backend/configs/tests/test_load.py"
SETTINGS = "backend/configs/tests/test_settings.py"
ENV = "backend/configs/tests/test_env.py"
HEALTH = "backend/core/tests/test_health.py"
FUZZ = "backend/api/tests/test_fuzz.py"
MAKE_APP = "backend/configs/tests/test_make_app.py"
RELIABILITY = "backend/core/tests/test_reliability.py"
QUEUE = "backend/core/tests/test_queue.py"
ERRORS = "backend/core/tests/test_errors.py"
AUTHENTICATION = "backend/accounts/tests/test_authentication.py"
THROTTLING = "backend/accounts/tests/test_throttling.py"
ADMIN_LOGIN = "backend/accounts/tests/test_admin_login.py"
DEBUG_PAGE = "backend/core/tests/test_debug.py"
POLICY = "backend/core/tests/test_security_policy.py"
UNIQUE_USERS = "backend/accounts/tests/test_unique_users.py"
COUNTS = "backend/accounts/tests/test_counts.py"
REVOCATION = "backend/accounts/tests/test_revocation.py"
LOGIN_FLOOD = "backend/configs/tests/test_login_flood.py"
SLOW_BODIES = "backend/configs/tests/test_slow_bodies.py"
LIMITS_ON_WORKERS = "backend/configs/tests/test_limits_on_workers.py"
PROXY_LIMITS = "backend/configs/tests/test_proxy_limits.py"


@dataclass
class Result:
    """One test's outcome and the properties it recorded."""

    nodeid: str
    outcome: str = "passed"  # "passed", "failed" or "skipped"
    reason: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


Figure = Callable[[list[Result]], str]


@dataclass(frozen=True)
class Check:
    """A row: a label, the tests that prove it and what to show of their figures."""

    name: str
    tests: tuple[str, ...]  # pytest node ids; one without [...] takes every param
    figure: Figure

    def results(self, results: list[Result]) -> list[Result]:
        return [
            result
            for result in results
            if any(
                result.nodeid == test or result.nodeid.startswith(test + "[")
                for test in self.tests
            )
        ]


def count(what: str) -> Figure:
    return lambda results: f"{len(results)} {what}"


def prop(name: str, results: list[Result]) -> Any:
    """Return the property name as recorded by the first of results that has it."""
    return next(r.properties[name] for r in results if name in r.properties)


def login_flood(results: list[Result], target: bool = True) -> str:
    """The victim's logins and /me's p99 under a login flood, against quiet."""
    ratio = prop("me_p99_ratio", results)
    verdict = f"; target under 5x: {'met' if ratio < 5 else 'missed'}" if target else ""
    return (
        f"{prop('login_share', results):.0%} of {prop('logins', results)} logins 200"
        f" (p50 {prop('login_p50_flood_ms', results)} ms vs"
        f" {prop('login_p50_quiet_ms', results)} quiet);"
        f" /me p99 {prop('me_p99_flood_ms', results)} ms vs"
        f" {prop('me_p99_quiet_ms', results)} quiet ({ratio}x{verdict})"
    )


def proxy_limits(results: list[Result]) -> str:
    """How many of 60 at once passed nginx, per password URL."""
    passed = [
        r.properties["passed_of_60"] for r in results if "passed_of_60" in r.properties
    ]
    if not passed:
        raise KeyError("passed_of_60")
    return (
        f"{len(passed)} URLs, 60 at once from one IP: {'/'.join(map(str, passed))}"
        " reached the backend, the rest 429 from nginx; other URLs, other IPs: no limit"
    )


def slow_bodies(results: list[Result]) -> str:
    """/healthz and /me under the attack through nginx, quiet, and without it."""

    def path(label: str, name: str) -> str:
        under, quiet = prop(f"proxy_{name}", results), prop(f"quiet_{name}", results)
        return (
            f"{label} {under['answered']}/{under['probes']} 200 p50 "
            f"{under['p50_ms']:.0f} ms (quiet {quiet['p50_ms']:.0f})"
        )

    direct = prop("direct_healthz", results)
    return (
        f"via nginx: {path('/healthz', 'healthz')}, {path('/me', 'me')}; "
        f"{prop('proxy_attackers_closed', results)} cut "
        f"{prop('proxy_closed_after_s', results)} s after their last byte; "
        f"straight at bin/serve: /healthz {direct['answered']}/{direct['probes']} "
        "answered in 5 s"
    )


def seconds(name: str) -> Figure:
    return lambda results: f"{float(prop(name, results)):.3f} s"


def fuzzing(results: list[Result]) -> str:
    requests = sum(int(r.properties.get("examples", 0)) for r in results)
    statuses: dict[str, int] = {}
    for result in results:
        for status, n in json.loads(result.properties.get("statuses", "{}")).items():
            statuses[status] = statuses.get(status, 0) + n
    spread = ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))
    return f"{len(results)} operations, {requests} requests ({spread}), 0 failures"


CHECKS: list[Check] = [
    Check(
        "deploy: check --deploy --fail-level WARNING",
        (
            f"{SECURITY}::test_production_environment_passes_deploy_checks_at_warning_level",
        ),
        lambda results: str(prop("summary", results)),
    ),
    Check(
        "deploy: HSTS preload only as an opt-in",
        (f"{SECURITY}::test_hsts_preload_is_an_opt_in",),
        lambda results: "off unless DJANGO_HSTS_PRELOAD=1",
    ),
    Check(
        "deploy: weak keys refused at start-up",
        (
            f"{SECURITY}::test_weak_secret_key_is_refused_with_debug_off",
            f"{SETTINGS}::test_jwt_signing_key_equal_to_secret_key_refuses_start",
            f"{SETTINGS}::test_jwt_signing_key_shorter_than_32_bytes_refuses_start",
        ),
        count("weak keys refused"),
    ),
    Check(
        "deploy: every secret from NAME_FILE, never shown",
        (
            f"{SETTINGS}::test_each_secret_is_read_from_name_file",
            f"{SETTINGS}::test_every_secret_settings_read_may_come_from_a_file",
            f"{SETTINGS}::test_a_missing_secret_file_refuses_start_naming_it",
            f"{ENV}::test_a_secret_set_both_ways_is_refused_without_showing_it",
            f"{ENV}::test_an_unreadable_secret_file_is_a_problem_naming_the_variable",
        ),
        lambda results: (
            f"{sum('test_each_secret' in r.nodeid for r in results)} secrets read "
            "from files; both set, missing, unreadable, empty refused"
        ),
    ),
    Check(
        "proxy: security headers over HTTPS",
        (f"{SECURITY}::test_responses_behind_the_proxy_carry_the_security_headers",),
        lambda results: str(prop("hsts", results)),
    ),
    Check(
        "proxy: HTTP redirected, probes exempt",
        (
            f"{SECURITY}::test_plain_http_is_redirected_to_https",
            f"{SECURITY}::test_probes_are_not_redirected",
        ),
        lambda results: "301 to https; /healthz, /readyz 200",
    ),
    Check(
        "proxy: unknown Host is 400",
        (f"{SECURITY}::test_unknown_host_is_400",),
        lambda results: "400",
    ),
    Check(
        "CSP: admin and API docs load under the policy",
        (
            f"{POLICY}::test_admin_login_page_loads_its_assets_under_the_policy",
            f"{POLICY}::test_api_docs_page_loads_its_assets_and_script_under_the_policy",
            f"{POLICY}::test_signed_in_admin_pages_run_under_the_policy",
            f"{POLICY}::test_the_policy_runs_no_inline_script_and_allows_no_other_origin",
        ),
        lambda results: (
            f"admin login {prop('admin_login_assets', results)} assets, docs "
            f"{prop('docs_assets', results)}, {len(results) - 3} more pages: all "
            "allowed, script-src 'self' only"
        ),
    ),
    Check(
        "Permissions-Policy on every response",
        (f"{POLICY}::test_every_response_carries_the_permissions_policy",),
        lambda results: f"{len(results)} kinds of response (JSON, probe, HTML)",
    ),
    Check(
        "CORS: allowlisted origin answered",
        (
            f"{SECURITY}::test_preflight_from_allowlisted_origin_is_answered_with_that_origin",
        ),
        lambda results: "with its own origin",
    ),
    Check(
        "CORS: other origins get no Allow-Origin",
        (
            f"{SECURITY}::test_preflight_from_any_other_origin_gets_no_allow_origin",
            f"{SECURITY}::test_wildcard_origin_is_never_sent",
        ),
        lambda results: f"{len(results) - 1} origins refused, * never sent",
    ),
    Check(
        "CSRF: admin login over HTTPS, not cross-site",
        (
            f"{SECURITY}::test_admin_login_works_over_https_behind_the_proxy",
            f"{SECURITY}::test_admin_login_from_a_foreign_origin_is_403",
        ),
        lambda results: "302 signed in; 403 from a foreign origin",
    ),
    Check(
        "input: JSON nested past the recursion limit",
        (f"{ERRORS}::test_json_nested_past_the_recursion_limit_is_400_not_500",),
        lambda results: (
            f"{prop('bodies', results)} bodies 900 to "
            f"{prop('deepest', results):,} levels deep: all 400, 0 x 500"
        ),
    ),
    Check(
        "JWT: claims typed strictly, with the real key",
        (
            f"{AUTHENTICATION}::test_access_token_with_a_malformed_claim_gets_401",
            f"{AUTHENTICATION}::test_refresh_token_with_a_malformed_claim_gets_401",
        ),
        lambda results: (
            f"{len(results)} tokens (me, refresh, blacklist) with user_id 1.0, "
            "' 1', true, a bad exp...: all 401"
        ),
    ),
    Check(
        "login: requests that check no password are no guesses",
        (
            f"{THROTTLING}::test_requests_that_check_no_password_do_not_count_as_guesses",
            f"{ADMIN_LOGIN}::test_the_admin_login_form_is_not_a_guess",
            f"{ADMIN_LOGIN}::test_an_admin_form_without_both_fields_is_not_a_guess",
        ),
        lambda results: (
            f"{len(results)} kinds x {prop('requests', results)} from one IP "
            "(OPTIONS, GET, HEAD, blank forms; API and admin), then login 200"
        ),
    ),
    Check(
        "debug page: credentials in URLs masked",
        (
            f"{DEBUG_PAGE}::test_debug_page_masks_credentials_in_urls_and_shows_the_rest",
        ),
        lambda results: (
            f"{prop('variables', results)} credential URLs in settings, META and "
            f"locals: the secret shown {prop('shown', results)} times"
        ),
    ),
    Check(
        "accounts: one name, one address, any spelling",
        (
            f"{UNIQUE_USERS}::test_registration_refuses_a_username_taken_in_another_spelling",
            f"{UNIQUE_USERS}::test_registration_refuses_an_address_taken_in_another_case",
            f"{UNIQUE_USERS}::test_registration_refuses_a_username_that_mixes_scripts",
            f"{UNIQUE_USERS}::test_a_race_lost_at_the_insert_is_a_field_error_not_a_500",
            f"{UNIQUE_USERS}::test_the_database_refuses_case_variants_and_non_nfkc_names",
        ),
        lambda results: (
            f"{len(results) - 1} spellings refused with a 400 field error, "
            f"{prop('refused_by_database', results)} by PostgreSQL itself"
        ),
    ),
    Check(
        "limits: exact across workers, no Redis",
        (
            f"{COUNTS}::test_concurrent_attempts_on_separate_connections_pass_exactly_the_limit",
        ),
        lambda results: (
            f"{prop('allowed', results)} passed (2 workers' threads at once); "
            f"PostgreSQL upsert {prop('upsert_ms', results)} ms"
        ),
    ),
    Check(
        "limits: exact on bin/serve x2 workers, no Redis",
        (
            f"{LIMITS_ON_WORKERS}::test_each_limit_is_exact_across_two_workers_without_redis",
        ),
        lambda results: (
            f"per username {prop('per_username', results)}, per IP "
            f"{prop('per_ip', results)}, sign-ups {prop('registrations', results)};"
            f" workers' shares {prop('workers_shares', results)}"
        ),
    ),
    Check(
        "refresh: token chains throttled per user",
        (
            f"{THROTTLING}::test_refresh_is_limited_to_30_a_minute_by_default",
            f"{THROTTLING}::test_refresh_chains_are_throttled_per_user",
            f"{THROTTLING}::test_a_forged_refresh_token_uses_up_no_ones_allowance",
        ),
        lambda results: (
            f"30/min per user, then 429 (was ~222/s); {prop('blacklisted', results)}"
            " blacklist rows for 31 tries; forged tokens uncounted"
        ),
    ),
    Check(
        "revocation: next request, every worker",
        (
            f"{REVOCATION}::test_without_redis_another_workers_user_is_never_served_stale",
            f"{REVOCATION}::test_revocation_takes_effect_on_the_next_request_through_redis",
        ),
        lambda results: (
            f"{len(results) - 1} paths through Redis and 1 across workers without "
            "it: 401 on the next request"
        ),
    ),
    Check(
        "revocation: cost of /api/auth/me/",
        (f"{REVOCATION}::test_cost_of_me_by_authentication_cache",),
        lambda results: ", ".join(
            f"{r.nodeid.rsplit('[', 1)[1].rstrip(']')} {r.properties['me_ms']} ms"
            for r in results
        ),
    ),
    Check(
        "fuzzing: schemathesis, every check",
        (f"{FUZZ}::test_api_operation_passes_every_check",),
        fuzzing,
    ),
    Check(
        "make app: a generated app fuzzed, typed",
        (
            f"{MAKE_APP}::"
            "test_generated_app_passes_the_fuzzer_mypy_and_the_migrations_check",
        ),
        lambda results: (
            f"{prop('operations', results)} operations fuzzed, mypy and "
            "makemigrations --check clean"
        ),
    ),
    Check(
        "DB down: /healthz 200, /readyz 503",
        (f"{HEALTH}::test_database_outage_is_answered_fast_and_in_json",),
        lambda results: f"/readyz in {seconds('readyz_seconds')(results)}",
    ),
    Check(
        "readyz: a flood costs one query a second",
        (
            f"{HEALTH}::test_a_flood_of_readyz_costs_one_query_per_second",
            f"{HEALTH}::test_readyz_sees_a_database_failure_within_the_cache_period",
        ),
        lambda results: (
            f"{prop('probes', results)} probes in 1 s: {prop('queries', results)} "
            "query; a failure seen within 1 s"
        ),
    ),
    Check(
        "DB down: API answers JSON 503",
        (f"{HEALTH}::test_database_outage_is_answered_fast_and_in_json",),
        lambda results: (
            f"me {seconds('me_seconds')(results)}, "
            f"login {seconds('token_seconds')(results)}"
        ),
    ),
    Check(
        "DB back: serves again, no restart",
        (
            f"{HEALTH}::test_service_resumes_without_a_restart_when_the_database_is_back",
        ),
        lambda results: (
            f"{prop('succeeded', results)}/{prop('requests', results)} requests 200"
        ),
    ),
    Check(
        "DB: a statement past DB_STATEMENT_TIMEOUT is cancelled",
        (
            f"{ERRORS}::test_a_statement_past_the_timeout_is_cancelled_with_a_json_503",
            f"{SETTINGS}::test_connections_carry_the_default_statement_timeout",
        ),
        lambda results: (
            f"pg_sleep(2) at {prop('timeout_ms', results)} ms: JSON 503 "
            "database_timeout; default 15 s"
        ),
    ),
    Check(
        "server: SIGTERM lets the in-flight request finish",
        (f"{SERVER}::test_sigterm_lets_an_in_flight_request_finish",),
        lambda results: f"200, exit 0 in {seconds('exit_seconds')(results)}",
    ),
    Check(
        "server: a worker killed mid-request",
        (f"{SERVER}::test_a_worker_killed_mid_request_does_not_take_the_server_down",),
        lambda results: (
            f"replaced in {seconds('respawn_seconds')(results)}, then 10/10 200"
        ),
    ),
    Check(
        "mail: reset time, known vs unknown address",
        (
            f"{RELIABILITY}::test_reset_takes_the_same_time_for_a_known_and_an_unknown_address",
        ),
        lambda results: (
            f"medians of 30: known {prop('known_ms', results)} ms, "
            f"unknown {prop('unknown_ms', results)} ms"
        ),
    ),
    Check(
        "mail: reset requested to message received",
        (f"{RELIABILITY}::test_reset_to_message_received_through_a_real_worker",),
        lambda results: (
            f"{prop('messages', results)} via bin/worker and SMTP: "
            f"p50 {prop('p50_ms', results)} ms, max {prop('max_ms', results)} ms"
        ),
    ),
    Check(
        "mail: SMTP down 30 s under 100 resets",
        (
            f"{RELIABILITY}::test_smtp_down_for_30_s_under_100_resets_delivers_each_once",
        ),
        lambda results: (
            f"{prop('delivered', results)}/100 delivered once, "
            f"{prop('drained_s', results)} s after it returned"
        ),
    ),
    Check(
        "jobs: worker killed mid-job",
        (f"{RELIABILITY}::test_a_worker_killed_mid_job_has_the_job_run_again_once",),
        lambda results: (
            f"run again once, delivered once, {prop('rerun_after_s', results)} s "
            "after the kill"
        ),
    ),
    Check(
        "jobs: two workers, each job run once",
        (
            f"{QUEUE}::test_two_workers_run_each_job_exactly_once_and_each_periodic_job_once",
        ),
        lambda results: (
            f"{prop('jobs', results)} jobs run once each, split "
            f"{prop('split', results)}; the every-minute job once a minute "
            f"({prop('minutes', results)} minute(s)) with both scheduling"
        ),
    ),
    Check(
        "login flood x16, one IP, wrong passwords: others log in",
        (
            f"{LOGIN_FLOOD}::test_a_one_address_login_flood_leaves_others_logging_in[wrong]",
        ),
        login_flood,
    ),
    Check(
        "login flood x16, one IP, right passwords: others log in",
        (
            f"{LOGIN_FLOOD}::test_a_one_address_login_flood_leaves_others_logging_in[right]",
        ),
        login_flood,
    ),
    Check(
        "login flood x16, one IP, right passwords, via nginx",
        (f"{LOGIN_FLOOD}::test_a_one_address_login_flood_through_the_proxy",),
        lambda results: (
            f"{login_flood(results)}; reached the backend:"
            f" {prop('flood_to_backend', results)}"
        ),
    ),
    Check(
        "proxy: password URLs limited per IP in nginx",
        (
            f"{PROXY_LIMITS}::test_a_burst_on_a_password_url_is_refused_in_the_proxy",
            f"{PROXY_LIMITS}::test_other_urls_and_other_addresses_are_not_limited",
        ),
        proxy_limits,
    ),
    Check(
        "login flood x16 from 16 IPs (a figure, no target)",
        (f"{LOGIN_FLOOD}::test_a_sixteen_address_login_flood_is_measured",),
        lambda results: login_flood(results, target=False),
    ),
    Check(
        "8 simultaneous logins, no attacker: all 200",
        (f"{LOGIN_FLOOD}::test_eight_simultaneous_logins_all_succeed",),
        lambda results: (
            f"{prop('statuses', results).count(200)}/8 200 from 8 IPs;"
            f" from one IP {prop('one_address_statuses', results).count(200)}/8"
        ),
    ),
    Check(
        "slow bodies x16 at 1 byte/s: /healthz, /me answer",
        (
            f"{SLOW_BODIES}::"
            "test_slow_bodies_through_the_proxy_leave_healthz_and_me_answering",
        ),
        slow_bodies,
    ),
    Check(
        "load: /api/auth/me/ x64 beside a login flood",
        (f"{LOAD}::test_me_under_load_beside_a_login_flood_has_no_errors",),
        lambda results: (
            f"{prop('requests', results)} requests, 0 errors, "
            f"{prop('rps', results)} req/s, p99 {prop('p99_ms', results)} ms"
        ),
    ),
]


class Collector:
    """A pytest plugin that keeps each test's outcome and recorded properties."""

    def __init__(self) -> None:
        self.results: list[Result] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        self.results.append(Result(item.nodeid))
        try:
            return (yield)
        finally:
            self.results[-1].properties = dict(item.user_properties)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results[-1]
        if report.failed:
            result.outcome = "failed"
        elif report.skipped and result.outcome == "passed":
            result.outcome = "skipped"
            if isinstance(report.longrepr, tuple):
                result.reason = str(report.longrepr[2]).removeprefix("Skipped: ")


def row(check: Check, results: list[Result]) -> tuple[str, str]:
    """Return the row's result and its figure (or why it has none)."""
    mine = check.results(results)
    if not mine:
        return "FAIL", "did not run"
    failed = [r for r in mine if r.outcome == "failed"]
    if failed:
        return "FAIL", f"{len(failed)} of {len(mine)} tests failed: {failed[0].nodeid}"
    if all(r.outcome == "skipped" for r in mine):
        return "skip", mine[0].reason
    try:
        return "pass", check.figure([r for r in mine if r.outcome == "passed"])
    except (StopIteration, KeyError, ValueError):
        return "FAIL", "passed without recording its figures"


def table(rows: list[tuple[str, str, str]]) -> str:
    header = ("check", "result", "figure")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True))
        for r in [header, *rows]
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "rows",
        nargs="*",
        metavar="WORDS",
        help="run only the rows whose name holds these words (e.g. 'slow bodies')",
    )
    words = " ".join(parser.parse_args().rows).lower()
    checks = [check for check in CHECKS if words in check.name.lower()]
    if not checks:
        print(f"security: no row's name holds {words!r}", file=sys.stderr)
        return 2
    started = time.monotonic()
    os.chdir(ROOT)
    tests = list(dict.fromkeys(test for check in checks for test in check.tests))
    collector = Collector()
    exit_code = pytest.main(
        # -m "" lifts the ini's "not load": the load run is one of the rows.
        [
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-profile=security",
            "-m",
            "",
            *tests,
        ],
        plugins=[collector],
    )
    rows = [(check.name, *row(check, collector.results)) for check in checks]
    print()
    print(table(rows))
    verdicts = [result for _, result, _ in rows]
    print(f"\n{len(rows)} checks in {time.monotonic() - started:.1f} s")
    print(
        f"security: {verdicts.count('pass')} passed, {verdicts.count('FAIL')} "
        f"failed, {verdicts.count('skip')} skipped"
    )
    return 1 if "FAIL" in verdicts or exit_code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
