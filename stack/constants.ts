// Names shared by the stack generators, the artifacts plugin and the stack tests.

/** The state machine the stack deploys. */
export const ASL_FILE = 'state-machines/medallion-pipeline.asl.json';

/** The generic Glue script of each stage (glue/<script>; deployed as stack/glue-artifacts.ts says). */
export const GLUE_SCRIPTS = {
  bronze: 'medallion_bronze.py',
  silver: 'medallion_silver.py',
  gold: 'medallion_gold.py',
} as const;
/** The scripts' shared Python package (glue/medallion_glue), zipped for --extra-py-files. */
export const GLUE_LIBRARY_ZIP = 'medallion_glue.zip';

/** AWS Glue 5.1: Spark 3.5.6, Python 3.11, Java 17. */
export const GLUE_VERSION = '5.1';
/** The Glue jobs' log groups: <prefix>/output (stdout, stderr) and <prefix>/error (driver, Spark). */
export const GLUE_LOG_PREFIX = (stage: string): string => `/aws-glue/medallion-${stage}`;

/** The lake zones a dataset has a table and a folder in. */
export const ZONES = ['bronze', 'silver', 'gold', 'quarantine'] as const;
export type Zone = (typeof ZONES)[number];
