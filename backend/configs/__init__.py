"""Project wiring for keel: settings, URLs and the WSGI and ASGI entry points."""
