"""keel's benchmark: keel's production server against a peer's defaults."""
