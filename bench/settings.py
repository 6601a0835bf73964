"""
keel's own settings plus the benchmark's extra views (bench.urls).

Everything else, middleware and authentication included, is exactly keel's.
"""

from configs.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
