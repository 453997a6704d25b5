"""Glue 5.0 job: the gold stage of any dataset, driven only by its job arguments and the compiled
dataset plan (--dataset_plan). Ship glue/medallion_glue as medallion_glue.zip with --extra-py-files."""

import sys

from awsglue.utils import getResolvedOptions

from medallion_glue.contract import JOB_ARGS
from medallion_glue.sparkio import SparkEngine
from medallion_glue.stages import run_stage
from medallion_glue.storage import Stores


def main(argv):
    # A missing argument fails here, naming it (getResolvedOptions exits non-zero).
    resolved = getResolvedOptions(argv, list(JOB_ARGS))
    run_stage("gold", resolved, engine_factory=SparkEngine.create, stores=Stores())


if __name__ == "__main__":
    main(sys.argv)
