'use strict';
// Names shared by the stack generators, the artifacts plugin and the stack tests.

/** The state machine the stack deploys. */
const ASL_FILE = 'state-machines/medallion-pipeline.asl.json';

/** The generic Glue script of each stage, uploaded to s3://<artifacts>/glue/<script>. */
const GLUE_SCRIPTS = {
  bronze: 'medallion_bronze.py',
  silver: 'medallion_silver.py',
  gold: 'medallion_gold.py',
};
/** The scripts' shared Python package (glue/medallion_glue), zipped for --extra-py-files. */
const GLUE_LIBRARY_ZIP = 'medallion_glue.zip';

/** Compiled dataset plans (`medallion compile`): s3://<artifacts>/plans/<dataset>.json. */
const PLANS_PREFIX = 'plans/';

/** Custom metrics namespace of the pipeline (published by the stage functions). */
const METRICS_NAMESPACE = 'Medallion';

/** AWS Glue 5.1: Spark 3.5.6, Python 3.11, Java 17. */
const GLUE_VERSION = '5.1';
/** The Glue jobs' log groups: <prefix>/output (stdout, stderr) and <prefix>/error (driver, Spark). */
const GLUE_LOG_PREFIX = (/** @type {string} */ stage) => `/aws-glue/medallion-${stage}`;

const STAGES = /** @type {const} */ (['bronze', 'silver', 'gold']);

module.exports = {
  ASL_FILE,
  GLUE_SCRIPTS,
  GLUE_LIBRARY_ZIP,
  GLUE_LOG_PREFIX,
  GLUE_VERSION,
  PLANS_PREFIX,
  METRICS_NAMESPACE,
  STAGES,
};
