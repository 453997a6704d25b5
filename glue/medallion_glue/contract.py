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
)

# shared/domain/datasets.ts FORMAT_EXTENSIONS (matched on the lower-cased file name).
FORMAT_EXTENSIONS = {
    "jsonl": (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz"),
    "csv": (".csv", ".csv.gz"),
}

# shared/domain/manifest.ts MANIFEST_VERSION; the plan version of `medallion compile`.
MANIFEST_VERSION = 1
PLAN_VERSION = 1

# Columns the bronze job adds to every row (the local runner adds the same).
INGESTED_AT = "_ingested_at"
SOURCE_FILE = "_source_file"
QUARANTINE_REASONS = "_quarantine_reasons"

# Step Functions execution names (shared/domain/run.ts): 1-80 chars of A-Z a-z 0-9 - _.
RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
