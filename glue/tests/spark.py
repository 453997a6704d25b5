"""One real SparkSession per test process (pyspark 3.5.6 from .venv, as on AWS Glue 5.1), configured
to start fast: local master, no UI, few shuffle partitions. The job code's own
`SparkSession.builder.getOrCreate()` then returns this session. A missing pyspark or Java fails the
tests that need Spark; it is never a skip."""

import os
import sys
from pathlib import Path

GLUE = Path(__file__).resolve().parent.parent
# The scripts' `awsglue` import resolves to the local shim (glue/local/awsglue), never shipped.
LOCAL = GLUE / "local"
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

from spark_jobs import spark_session  # noqa: E402  (glue/local/spark_jobs.py: the same settings as --engine spark)

__all__ = ["spark_session", "GLUE", "LOCAL"]
