"""The api app: the URL hub for everything under /api/."""
