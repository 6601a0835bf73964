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
    for name in (".env.example", "db.env.example"):
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
