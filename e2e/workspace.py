"""
A throwaway copy of the project for the stacks to run in.

It holds the checkout's tracked and untracked files (not the ignored ones),
with fresh env files, so the checkout and its backend/.env are never touched;
the compose files, Containerfile and kube manifest under test are the ones in
the checkout.
"""

import re
import shutil
import sys
import tempfile
from pathlib import Path

from e2e.shell import run

ROOT = Path(__file__).resolve().parent.parent
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# backend/.env's mail settings that differ from make env's: mail goes through
# e2e's SMTP server (e2e/compose.smtp.yml; a container of that name under kube
# play).
MAIL_OVERRIDES = {
    "KEEL_EMAIL": "smtp",
    "EMAIL_HOST": "keel-smtp",
    "EMAIL_PORT": "1025",
    "DEFAULT_FROM_EMAIL": "keel-e2e@example.com",
}


def set_once(path: Path, name: str, value: str) -> None:
    """Set name=value in the env file at path, which must set name once."""
    text, count = re.subn(
        rf"^{name}=.*$", f"{name}={value}", path.read_text(), flags=re.M
    )
    if count != 1:
        raise ValueError(f"{path} should set {name} once, not {count} times")
    path.write_text(text)


def env_value(path: Path, name: str) -> str:
    """Return the value the env file at path sets for name (once)."""
    values = re.findall(rf"^{name}=(.*)$", path.read_text(), flags=re.M)
    if len(values) != 1:
        raise ValueError(f"{path} should set {name} once, not {len(values)} times")
    return str(values[0]).strip()


def make_workspace() -> Path:
    """Return the project's root in a new temporary folder, env files written."""
    copy = Path(tempfile.mkdtemp(prefix="keel-e2e-")) / "keel"
    copy.mkdir()
    if (ROOT / ".git").exists():
        listed = run(
            "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            cwd=ROOT,
        )  # fmt: skip
        for name in filter(None, listed.stdout.split("\0")):
            source = ROOT / name
            if source.is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy / name)
    else:
        shutil.copytree(
            ROOT,
            copy,
            dirs_exist_ok=True,
            # Names, not paths: the env files are written afresh below.
            # .keel holds make dev's live PostgreSQL (its socket cannot be copied).
            ignore=shutil.ignore_patterns(
                ".venv",
                ".keel",
                "__pycache__",
                "staticfiles",
                ".env",
                "db.env",
                "*.crt",
            ),
        )
    run(sys.executable, "scripts/make_env.py", cwd=copy)
    env_file = copy / "backend" / ".env"
    # The stacks run the redis profile, so Django's cache goes through it, with
    # the password make env wrote to backend/redis.env.
    redis_env = (copy / "backend" / "redis.env").read_text()
    password = re.search(r"^REDIS_PASSWORD=(.+)$", redis_env, flags=re.M)
    if password is None:
        raise ValueError("make env wrote no REDIS_PASSWORD to backend/redis.env")
    set_once(env_file, "REDIS_URL", f"redis://:{password[1]}@redis:6379/0")
    # Metrics on, as an operator turns them on; make env wrote the token.
    set_once(env_file, "KEEL_METRICS", "1")
    for name, value in MAIL_OVERRIDES.items():
        set_once(env_file, name, value)
    # The image build trusts the host's CA bundle, for networks that intercept TLS.
    if CA_BUNDLE.is_file():
        shutil.copy(CA_BUNDLE, copy / ".ci" / "certs" / CA_BUNDLE.name)
    return copy


def remove_workspace(copy: Path) -> None:
    shutil.rmtree(copy.parent, ignore_errors=True)
