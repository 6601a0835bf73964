"""
The images the stacks run: Podman itself, the base images and their stand-ins.

keel's compose files name docker.io/library images through PYTHON_IMAGE,
POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE (the proxy's base) and DEBIAN_IMAGE
(PgBouncer's). Where those
cannot be pulled (no registry on this machine or CI), stand-ins are built from
a Debian bookworm minbase made with debootstrap and imported with podman
import: PostgreSQL, Redis and nginx from Debian's packages behind the official
images' interface (e2e/standins/).
Each stand-in carries a label with the hash of its recipe, so it is built
once and rebuilt only when its recipe changes.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from e2e.shell import CommandFailed, exists, podman, run

STANDINS = Path(__file__).resolve().parent / "standins"
CONTAINERS_CONF = Path(__file__).resolve().parent / "containers.conf"
DEBIAN_IMAGE = "localhost/keel-e2e-debian:bookworm"
RECIPE_LABEL = "org.keel.e2e.recipe"
TOOLS = ("podman", "runc", "debootstrap")

Say = Callable[[str], None]


class CannotRun(Exception):
    """This machine lacks something e2e needs and cannot install it."""


@dataclass(frozen=True)
class Base:
    """A base image keel's stacks name, and the stand-in that replaces it here."""

    variable: str
    real: str
    recipe: str
    extra_files: tuple[str, ...] = ()

    @property
    def standin(self) -> str:
        return f"localhost/keel-e2e-{self.recipe.split('.')[0]}:bookworm"


BASES = (
    Base("PYTHON_IMAGE", "docker.io/library/python:3.12-slim", "python.Containerfile"),
    Base(
        "POSTGRES_IMAGE",
        "docker.io/library/postgres:16-alpine",
        "postgres.Containerfile",
        ("postgres-entrypoint.sh",),
    ),
    Base("REDIS_IMAGE", "docker.io/library/redis:7-alpine", "redis.Containerfile"),
    Base("NGINX_IMAGE", "docker.io/library/nginx:1.27-bookworm", "nginx.Containerfile"),
    Base(
        "DEBIAN_IMAGE",
        "docker.io/library/debian:bookworm-slim",
        "debian-slim.Containerfile",
    ),
)


def install_prerequisites(say: Say) -> None:
    """Install Podman, runc and debootstrap with apt-get where missing (root only).

    Podman then reads e2e/containers.conf (runc, no default ulimits) unless the
    caller set CONTAINERS_CONF.
    """
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        if os.geteuid() != 0:
            raise CannotRun(
                f"make e2e needs {', '.join(missing)}: as root it installs them, "
                f"otherwise run: apt-get install {' '.join(missing)}"
            )
        say(f"installing {', '.join(missing)} with apt-get")
        apt = {"DEBIAN_FRONTEND": "noninteractive"}
        if run("apt-get", "install", "-y", *missing, env=apt, check=False).returncode:
            run("apt-get", "update", env=apt)
            run("apt-get", "install", "-y", *missing, env=apt)
    os.environ.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    say(f"{podman('--version')}, CONTAINERS_CONF={os.environ['CONTAINERS_CONF']}")


def recipe_hash(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def image_recipe(image: str) -> str | None:
    """Return the recipe label of image, or None if Podman does not hold it."""
    if not exists("image", image):
        return None
    template = f'{{{{index .Labels "{RECIPE_LABEL}"}}}}'
    return podman("image", "inspect", "--format", template, image)


def debian_image(mirror: str, say: Say) -> str:
    """Return the recipe of the Debian bookworm minbase image, made once."""
    recipe = recipe_hash(b"debootstrap --variant=minbase bookworm", mirror.encode())
    if image_recipe(DEBIAN_IMAGE) == recipe:
        say(f"{DEBIAN_IMAGE} (cached)")
        return recipe
    if os.geteuid() != 0:
        raise CannotRun("building the Debian stand-in needs root (debootstrap)")
    with tempfile.TemporaryDirectory(prefix="keel-e2e-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(
            "debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror,
            timeout=900,
        )  # fmt: skip
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        )
        imported = subprocess.run(
            [
                "podman", "import", "--change", f"LABEL {RECIPE_LABEL}={recipe}",
                "-", DEBIAN_IMAGE,
            ],
            stdin=tar.stdout, capture_output=True, text=True, check=False,
        )  # fmt: skip
        tar.wait()
        if imported.returncode or tar.returncode:
            raise CommandFailed(
                f"podman import of the Debian rootfs failed: {imported.stderr}"
            )
    say(f"{DEBIAN_IMAGE} built with debootstrap from {mirror}")
    return recipe


SMTP_STANDIN = "localhost/keel-e2e-smtp:bookworm"


def build_standin(recipe_file: str, image: str, recipe: str, say: Say) -> None:
    """Build image from STANDINS/recipe_file on the Debian image, unless built."""
    if image_recipe(image) == recipe:
        say(f"{image} (stand-in, cached)")
        return
    started = time.monotonic()
    run(
        "podman", "build", "--build-arg", f"BASE_IMAGE={DEBIAN_IMAGE}",
        "--label", f"{RECIPE_LABEL}={recipe}",
        "-f", str(STANDINS / recipe_file), "-t", image, str(STANDINS),
        timeout=900,
    )  # fmt: skip
    say(f"{image} (stand-in, built in {time.monotonic() - started:.0f} s)")


def smtp_image(say: Say) -> str:
    """Return the SMTP server's image (SMTP_IMAGE, or the aiosmtpd stand-in)."""
    if os.environ.get("SMTP_IMAGE"):
        say(f"SMTP_IMAGE={os.environ['SMTP_IMAGE']} (from the environment)")
        return os.environ["SMTP_IMAGE"]
    mirror = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
    debian_recipe = debian_image(mirror, say)
    recipe = recipe_hash(
        debian_recipe.encode(), (STANDINS / "smtp.Containerfile").read_bytes()
    )
    build_standin("smtp.Containerfile", SMTP_STANDIN, recipe, say)
    return SMTP_STANDIN


def base_images(say: Say) -> dict[str, str]:
    """Return PYTHON_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE, DEBIAN_IMAGE.

    Each is, in this order: the variable's value in the environment, the real
    image if Podman holds it or can pull it (unless KEEL_E2E_PULL=0), or its
    stand-in, built on DEBIAN_MIRROR's packages if it is not built already.
    """
    mirror = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
    chosen: dict[str, str] = {}
    debian_recipe: str | None = None
    for base in BASES:
        if os.environ.get(base.variable):
            chosen[base.variable] = os.environ[base.variable]
            say(f"{base.variable}={chosen[base.variable]} (from the environment)")
            continue
        if exists("image", base.real):
            chosen[base.variable] = base.real
            say(f"{base.variable}={base.real} (present)")
            continue
        if os.environ.get("KEEL_E2E_PULL", "1") != "0":
            pulled = run("podman", "pull", "-q", base.real, check=False, timeout=300)
            if pulled.returncode == 0:
                chosen[base.variable] = base.real
                say(f"{base.variable}={base.real} (pulled)")
                continue
            say(f"cannot pull {base.real}: using a stand-in")
        debian_recipe = debian_recipe or debian_image(mirror, say)
        files = [
            STANDINS / base.recipe,
            *(STANDINS / name for name in base.extra_files),
        ]
        recipe = recipe_hash(
            debian_recipe.encode(), *(path.read_bytes() for path in files)
        )
        build_standin(base.recipe, base.standin, recipe, say)
        chosen[base.variable] = base.standin
    return chosen
