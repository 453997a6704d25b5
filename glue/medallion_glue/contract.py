"""Constants shared with the TypeScript side; test/glue checks that both sides agree."""

STAGES = ("bronze", "silver", "gold")

# shared/domain/glue-args.ts GLUE_ARGS, without the leading "--" (getResolvedOptions names).
JOB_ARGS = (
    "dataset",
    "stage",
    "run_id",
    "partition_path",
    "partition_values",
    "source_location",
    "target_location",
    "quarantine_location",
    "manifest_location",
    "dataset_plan",
    "catalog_database",
)

# shared/domain/glue-args.ts GOLD_WINDOW_ARG: the gold job's own argument (gold_window.py).
GOLD_JOB_ARGS = ("gold_window",)


def job_args(stage: str) -> list:
    """What a stage's script asks getResolvedOptions for: the contract's arguments, and gold's own."""
    return [*JOB_ARGS, *(GOLD_JOB_ARGS if stage == "gold" else ())]

# shared/domain/datasets.ts FORMAT_EXTENSIONS (matched on the lower-cased file name).
FORMAT_EXTENSIONS = {
    "jsonl": (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz"),
    "csv": (".csv", ".csv.gz"),
}

# shared/domain/landed-files.ts: Unicode White_Space, trimmed from column names (and from values by
# the plan's SQL); the longest CSV record a reader accepts; the reason an empty landed file is skipped.
WHITESPACE = "\t\n\u000b\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
MAX_CSV_RECORD_BYTES = 16 * 1024 * 1024
EMPTY_FILE_REASON = "empty file (0 bytes): no records"

# shared/domain/manifest.ts MANIFEST_VERSION; the plan version of `medallion compile`.
MANIFEST_VERSION = 1
PLAN_VERSION = 1

# Columns the bronze job adds to every row (the local runner adds the same).
INGESTED_AT = "_ingested_at"
SOURCE_FILE = "_source_file"
QUARANTINE_REASONS = "_quarantine_reasons"

# Step Functions execution names (shared/domain/run.ts): 1-80 chars of A-Z a-z 0-9 - _.
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
