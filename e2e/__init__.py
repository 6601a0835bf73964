"""keel end to end: the image, both stacks and the kube deployment, run in Podman."""
