"""The accounts app: keel's custom user and authentication."""
