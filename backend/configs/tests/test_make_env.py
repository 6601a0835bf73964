"""`make env` writes backend/.env with every required secret filled in."""

import shutil
import subprocess
import sys

from dotenv import dotenv_values

from testing.environment import BACKEND


def test_make_env_generates_a_jwt_signing_key_apart_from_the_secret_key(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "backend").mkdir()
    shutil.copy(BACKEND.parent / "scripts" / "make_env.py", tmp_path / "scripts")
    for name in (".env.example", "db.env.example", "redis.env.example"):
        shutil.copy(BACKEND / name, tmp_path / "backend")
    subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "make_env.py")],
        check=True,
        capture_output=True,
    )
    written = dotenv_values(tmp_path / "backend" / ".env")
    assert len(written["JWT_SIGNING_KEY"] or "") >= 32
    assert len(written["DJANGO_SECRET_KEY"] or "") >= 32
    assert written["JWT_SIGNING_KEY"] != written["DJANGO_SECRET_KEY"]


def test_make_env_gives_redis_one_password_in_redis_env_and_the_url(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "backend").mkdir()
    shutil.copy(BACKEND.parent / "scripts" / "make_env.py", tmp_path / "scripts")
    for name in (".env.example", "db.env.example", "redis.env.example"):
        shutil.copy(BACKEND / name, tmp_path / "backend")
    subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "make_env.py")],
        check=True,
        capture_output=True,
    )
    password = dotenv_values(tmp_path / "backend" / "redis.env")["REDIS_PASSWORD"]
    assert password and len(password) >= 24
    text = (tmp_path / "backend" / ".env").read_text()
    assert f"\n# REDIS_URL=redis://:{password}@redis:6379/0\n" in text
    assert "\nREDIS_URL=\n" in text, "Redis stays off until the profile is used"
