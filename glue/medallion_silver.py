"""AWS Glue 5.1 job (Spark 3.5.6, Python 3.11): the silver stage of any dataset, driven only by its
job arguments and the compiled dataset plan (--dataset_plan). Ship glue/medallion_glue as medallion_glue.zip
with --extra-py-files."""

import sys

from awsglue.utils import getResolvedOptions

from medallion_glue.contract import job_args
from medallion_glue.sparkio import SparkEngine
from medallion_glue.stages import run_stage
from medallion_glue.storage import Stores


def main(argv):
    # A missing argument fails here, naming it (GlueArgumentError: the run ends FAILED).
    resolved = getResolvedOptions(argv, job_args("silver"))
    return run_stage("silver", resolved, engine_factory=SparkEngine.create, stores=Stores())


if __name__ == "__main__":
    main(sys.argv)
