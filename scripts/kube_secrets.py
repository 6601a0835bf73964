"""
Make the Secrets deploy/kube.yaml reads, from backend/.env and backend/db.env.

    python scripts/kube_secrets.py k8s       print them, for kubectl apply -f -
    python scripts/kube_secrets.py podman    create them as Podman secrets

keel-backend holds backend/.env, keel-db holds backend/db.env: the same files
the compose stack reads, so the two deployments never drift apart. Variables
that deploy/kube.yaml sets itself (DB_HOST, DB_PORT, DJANGO_DEBUG) are left
out, because Podman lets a secret override them where Kubernetes would not.

Podman 4.3 reads a secret for `envFrom` only as a JSON object of base64
values (later versions read that too), which is the form written here.
"""

import argparse
import base64
import json
import subprocess
import sys
from pathlib import Path

import yaml
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "kube.yaml"
SECRETS = {
    "keel-backend": ROOT / "backend" / ".env",
    "keel-db": ROOT / "backend" / "db.env",
}


def variables_set_by_manifest(manifest: Path) -> set[str]:
    """Return the names every container of manifest sets with a plain env value."""
    names: set[str] = set()
    for document in yaml.safe_load_all(manifest.read_text()):
        spec = (document or {}).get("spec", {})
        pod = spec.get("template", {}).get("spec", spec)
        for container in pod.get("containers", []):
            names.update(item["name"] for item in container.get("env", []))
    return names


def secret_values(env_file: Path, excluded: set[str]) -> dict[str, str]:
    if not env_file.is_file():
        sys.exit(f"kube_secrets: {env_file} is missing; run: make env")
    values = dotenv_values(env_file)
    return {key: value or "" for key, value in values.items() if key not in excluded}


def as_k8s(name: str, values: dict[str, str]) -> str:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "keel"}},
        "type": "Opaque",
        "stringData": values,
    }
    return yaml.safe_dump(secret, sort_keys=False)


def create_podman_secret(podman: str, name: str, values: dict[str, str]) -> None:
    encoded = {
        key: base64.b64encode(value.encode()).decode() for key, value in values.items()
    }
    subprocess.run([podman, "secret", "rm", name], capture_output=True, check=False)
    subprocess.run(
        [podman, "secret", "create", name, "-"],
        input=json.dumps(encoded).encode(),
        capture_output=True,
        check=True,
    )
    print(f"kube_secrets: podman secret {name} holds {len(values)} variables.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["k8s", "podman"])
    parser.add_argument("--podman", default="podman", help="the podman binary")
    args = parser.parse_args()
    excluded = variables_set_by_manifest(MANIFEST)
    documents = []
    for name, env_file in SECRETS.items():
        values = secret_values(env_file, excluded)
        if args.target == "k8s":
            documents.append(as_k8s(name, values))
        else:
            create_podman_secret(args.podman, name, values)
    if documents:
        print("---\n" + "---\n".join(documents), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
