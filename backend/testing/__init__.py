"""Support for keel's test suite and benchmark: a throwaway PostgreSQL server."""
