"""The three stages as engine-neutral flows. The Spark engine (sparkio.py) does the data work on Glue;
the tests drive the same flows with a fake engine. A flow validates everything it can before it
writes, reconciles row counts before it writes (no row may vanish unaccounted), writes the data,
and writes the manifest last: a manifest exists only for a run whose outputs are complete."""

import json
import sys
from dataclasses import replace
from typing import Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from .args import JobArgs, check_against_plan, parse_job_args
from .contract import EMPTY_FILE_REASON, INGESTED_AT, MAX_CSV_RECORD_BYTES, QUARANTINE_REASONS, SOURCE_FILE
from .errors import JobArgumentError, MedallionJobError, StageContractError
from .gold_window import GoldTarget
from .locations import lake_root, parse_location
from .landing import HEADER_PROBE_BYTES, CsvLayout, classify, csv_layout, group_by_header, first_line, gz_copies
from .manifest import build_manifest, iso_now, manifest_json, output_partition, source_file
from .plan import Plan, parse_plan

CORRUPT_RECORD = "_corrupt_record"
# A validated row is clean when it has no failed rule (the plan's contract: NULL or empty reasons).
CLEAN_ROW = f"{QUARANTINE_REASONS} IS NULL OR {QUARANTINE_REASONS} = ''"


class Engine(Protocol):
    """The data operations a stage needs; frames are opaque handles."""

    def read_landing(
        self,
        json_uris: Sequence[str],
        csv_groups: Sequence[Tuple[Sequence[str], str, Sequence[str]]],
        columns: Sequence[str],
        ingested_at: str,
        landed: Mapping[str, str],
        on_drift: str = "halt",
    ):
        """Reads the files (URIs; CSV files in groups of one header and line separator); `landed` maps the URI of a copy read instead of a landed file to that
        file's URI, which its rows carry in _source_file. `on_drift`: the dataset's policy for JSON keys
        it does not declare (landing.json_key_spellings)."""
        ...
    def json_drift(self) -> Dict[str, List[str]]:
        """After read_landing under on_drift "alert": landed file URI -> its undeclared JSON keys, sorted."""
        ...
    def corrupt_records(self, frame) -> Tuple[int, List[str]]: ...
    def drop(self, frame, column: str): ...
    def read_parquet(self, uri, view: str): ...  # one folder URI, or a list of them (their union)
    def with_empty_columns(self, frame, columns: Sequence[str], view: str):
        """`frame` plus each of `columns` as NULL text, registered as `view`."""
        ...
    def sql(self, text: str, label: str, view: Optional[str] = None): ...
    def merge_current(self, changes, plan: Plan, lake_root_uri: str) -> int:
        """CDC: merges `changes` into the dataset's current state (an Iceberg table; cdc.py)."""
        ...
    def read_current(self, plan: Plan, lake_root_uri: str, view: str):
        """CDC: the dataset's current state (tombstones left out), registered as `view`."""
        ...
    def columns(self, frame) -> List[str]: ...
    def count(self, frame, where: Optional[str] = None) -> int: ...
    def distinct_count(self, frame, columns: Sequence[str], where: Optional[str] = None) -> int: ...
    def write_parquet(self, frame, uri: str) -> None: ...


def log(message: str, **fields) -> None:
    """One JSON line per event on stdout (Glue sends it to CloudWatch Logs)."""
    print(json.dumps({"message": message, **fields}, default=str), file=sys.stdout, flush=True)


def reconcile_silver(
    *, records_in: int, validated: int, valid: int, valid_keys: Optional[int], clean: int, quarantined: int
) -> int:
    """Checks that every bronze row is accounted for: clean, quarantined, or an older version of a
    deduplicated key. Returns the number of superseded duplicates; raises when rows vanished or were
    invented."""
    if validated != records_in:
        raise StageContractError(
            f"sql.silver.validate returned {validated} row(s) for {records_in} bronze row(s): it must return every input row"
        )
    flagged = validated - valid
    if quarantined != flagged:
        raise StageContractError(
            f"sql.silver.quarantine returned {quarantined} row(s) but sql.silver.validate flagged {flagged}: "
            f"every row with {QUARANTINE_REASONS} must be quarantined exactly once"
        )
    expected_clean = valid if valid_keys is None else valid_keys
    if clean != expected_clean:
        what = "valid row(s)" if valid_keys is None else "distinct dedup key(s) among valid rows"
        raise StageContractError(
            f"sql.silver.clean returned {clean} row(s) for {expected_clean} {what}: rows would be "
            f"{'dropped' if clean < expected_clean else 'invented'} silently"
        )
    return valid - clean


def schema_drift(layouts: Mapping[str, CsvLayout], landed_uri: Mapping[str, str], json_drift: Mapping[str, List[str]]) -> List[dict]:
    """The manifest's schemaDrift: per landed file with drift (CSV: its layout, keyed by the URI read;
    JSON: the engine's undeclared keys), sorted by file."""
    entries = [
        {"file": landed_uri.get(uri, uri), "undeclared": list(layout.undeclared), "missing": list(layout.missing)}
        for uri, layout in layouts.items()
        if layout.undeclared or layout.missing
    ]
    entries += [{"file": uri, "undeclared": list(keys), "missing": []} for uri, keys in json_drift.items() if keys]
    return sorted(entries, key=lambda d: d["file"])


def run_bronze(args: JobArgs, plan: Plan, engine_factory: Callable[[], Engine], stores, started_at: str, now: Callable[[], str] = iso_now) -> dict:
    files, empty = classify(stores.list_files(args.source), plan.formats, args.source.uri)
    # A gzipped file Spark would not decompress under its own name is read through a copy (gz_copies);
    # the engine reads `read[uri]` and gives its rows the landed file's URI.
    copies = gz_copies(files, args.temp_dir, args.job_run_id)
    read = {f.uri: copies[f.uri].uri if f.uri in copies else f.uri for f in files}
    json_uris = [read[f.uri] for f in files if f.format == "jsonl"]
    layouts = {}
    for f in files:
        if f.format == "csv":
            head = stores.read_bytes(f.file.location, HEADER_PROBE_BYTES)
            header, line_sep = first_line(head, f.gzipped, f.uri)
            layouts[read[f.uri]] = csv_layout(header, plan.column_names, f.uri, line_sep, plan.on_drift)
    groups = group_by_header(layouts)
    landed_uri = {read[f.uri]: f.uri for f in files}
    skipped = [{"file": f.location.uri, "reason": EMPTY_FILE_REASON} for f in empty]
    # What this run accounted for, as the listing showed it: finish-run starts no follow-up run for
    # objects that landed during the run and are listed here (same key, size and eTag).
    # A file the listing gave no eTag cannot be matched: left out, its object gets its follow-up run.
    sources = [
        source_file(f"{plan.landing_prefix}{args.partition_path}/{s.name}", s.size, s.etag)
        for s in [f.file for f in files] + list(empty)
        if s.etag
    ]
    log("Reading landing files", jsonl=len(json_uris), csv=len(layouts), emptySkipped=[f["file"] for f in skipped],
        gzCopies={uri: copy.uri for uri, copy in copies.items()})

    copied = []
    try:
        for f in files:
            if f.uri in copies:
                stores.copy(f.file.location, copies[f.uri])
                copied.append(copies[f.uri])
        engine = engine_factory()
        frame = engine.read_landing(
            json_uris,
            [(layout.header, layout.line_sep, uris) for layout, uris in groups],
            plan.column_names,
            started_at,
            {copy.uri: uri for uri, copy in copies.items()},
            on_drift=plan.on_drift,
        )
        records_in = engine.count(frame)
        corrupt, samples = engine.corrupt_records(frame)
        if corrupt:
            raise StageContractError(
                f"{corrupt} of {records_in} landing record(s) could not be parsed (malformed JSON line or CSV row, "
                f"or a CSV record longer than {MAX_CSV_RECORD_BYTES} bytes); "
                f"nothing was written. Files: {', '.join(samples)}"
            )
        drift = schema_drift(layouts, landed_uri, engine.json_drift())
        if drift:
            log("Schema drift", policy=plan.on_drift, files=drift)
        engine.write_parquet(engine.drop(frame, CORRUPT_RECORD), args.target.uri)
    finally:
        _delete_copies(stores, copied)
    return build_manifest(
        args,
        started_at=started_at,
        completed_at=now(),
        records_in=records_in,
        records_out=records_in,
        records_quarantined=0,
        output_partitions=[output_partition(plan.tables["bronze"], args.partition_values, args.target.uri)],
        quarantine_location=None,
        skipped_files=skipped,
        source_files=sources,
        schema_drift=drift,
    )


def _delete_copies(stores, copies: Sequence) -> None:
    """Deletes the run's copies once bronze is written (or the run failed). A copy that cannot be deleted
    does not fail the run, nor hide its own error: it is logged, and the temp dir's lifecycle rule (tmp/
    in the stack's artifacts bucket: 7 days) removes it."""
    for copy in copies:
        try:
            stores.delete(copy)
        except Exception as error:  # StorageError, or whatever the store raised
            log("Could not delete a copy of a landed file", copy=copy.uri, error=str(error))


def _require_columns(engine: Engine, frame, required: Sequence[str], what: str) -> None:
    present = set(engine.columns(frame))
    missing = [c for c in required if c not in present]
    if missing:
        raise StageContractError(f"{what} lacks column(s) {missing} (has {sorted(present)})")


def run_silver(args: JobArgs, plan: Plan, engine_factory: Callable[[], Engine], stores, started_at: str, now: Callable[[], str] = iso_now) -> dict:
    engine = engine_factory()
    bronze = engine.read_parquet(args.source.uri, view="bronze")
    _require_columns(engine, bronze, [INGESTED_AT, SOURCE_FILE], f"bronze at {args.source.uri}")
    # A bronze partition written before a column was declared lacks it: read as empty text (schema
    # evolution; the local runner's createBronzeView does the same).
    absent = [c for c in plan.column_names if c not in set(engine.columns(bronze))]
    if absent:
        log("Bronze lacks declared columns, read as empty", columns=absent)
        bronze = engine.with_empty_columns(bronze, absent, view="bronze")
    records_in = engine.count(bronze)

    validated = engine.sql(plan.validate_sql, "sql.silver.validate", view="validated")
    _require_columns(engine, validated, [QUARANTINE_REASONS], "the result of sql.silver.validate")
    clean = engine.sql(plan.clean_sql, "sql.silver.clean")
    quarantine = engine.sql(plan.quarantine_sql, "sql.silver.quarantine")
    _require_columns(engine, quarantine, [QUARANTINE_REASONS], "the result of sql.silver.quarantine")

    valid = engine.count(validated, where=CLEAN_ROW)
    counts = dict(
        records_in=records_in,
        validated=engine.count(validated),
        valid=valid,
        valid_keys=None if plan.dedup_key is None else engine.distinct_count(validated, plan.dedup_key, where=CLEAN_ROW),
        clean=engine.count(clean),
        quarantined=engine.count(quarantine),
    )
    duplicates = reconcile_silver(**counts)
    log("Silver rows reconciled", **counts, duplicatesSuperseded=duplicates)

    if plan.is_cdc:
        # The batch's latest change per key, merged into the current state: not a partition of its own.
        engine.merge_current(clean, plan, lake_root(args.target, "silver", args.dataset, args.partition_path).uri)
    else:
        engine.write_parquet(clean, args.target.uri)
    # Always rewritten, even when empty: a re-run must not leave an earlier run's rejects behind.
    engine.write_parquet(quarantine, args.quarantine.uri)
    partitions = [] if plan.is_cdc else [output_partition(plan.tables["silver"], args.partition_values, args.target.uri)]
    if counts["quarantined"]:
        partitions.append(output_partition(plan.tables["quarantine"], args.partition_values, args.quarantine.uri))
    return build_manifest(
        args,
        started_at=started_at,
        completed_at=now(),
        records_in=records_in,
        records_out=counts["clean"],
        records_quarantined=counts["quarantined"],
        output_partitions=partitions,
        quarantine_location=args.quarantine.uri if counts["quarantined"] else None,
    )


def run_gold(args: JobArgs, plan: Plan, engine_factory: Callable[[], Engine], stores, started_at: str, now: Callable[[], str] = iso_now) -> dict:
    """Each target of the run's gold window (gold_window.py; without a window, the partition alone)
    is the gold select over the silver partitions of its window that exist, and replaces its gold
    partition; a later day whose silver does not exist yet is not written. The local runner does the
    same (local/glue-runner.ts `gold`)."""
    targets = args.gold_targets or [GoldTarget(args.partition_path, args.partition_values, (args.partition_path,))]
    if targets[0].path != args.partition_path:
        raise JobArgumentError(f"--gold_window: its first target is {targets[0].path!r}, not the run's partition {args.partition_path!r}")
    own = args.partition_path + "/"
    silver_root = args.source.uri[: len(args.source.uri) - len(own)]
    gold_root = args.target.uri[: len(args.target.uri) - len(own)]

    def has_silver(path: str) -> bool:
        folder = parse_location(silver_root + path + "/", "gold_window")
        return any(f.location.key.endswith(".parquet") for f in stores.list_files(folder))

    engine = engine_factory()
    if plan.is_cdc:
        # A CDC dataset's gold reads the current state, one target (the dataset registry refuses a window).
        silver = engine.read_current(plan, lake_root(args.target, "gold", args.dataset, args.partition_path).uri, view="silver")
        records_in = engine.count(silver)
        gold = engine.sql(plan.gold_sql, "sql.gold.select")
        records_out = engine.count(gold)
        engine.write_parquet(gold, args.target.uri)
        partitions = [output_partition(plan.tables["gold"], args.partition_values, args.target.uri)]
    else:
        records_in = records_out = 0
        partitions = []
        for index, target in enumerate(targets):
            if index > 0 and not has_silver(target.path):
                continue
            sources = [silver_root + path + "/" for path in target.window if path == args.partition_path or has_silver(path)]
            silver = engine.read_parquet(sources[0] if len(sources) == 1 else sources, view="silver")
            records_in += engine.count(silver)
            gold = engine.sql(plan.gold_sql, "sql.gold.select")
            records_out += engine.count(gold)
            location = gold_root + target.path + "/"
            engine.write_parquet(gold, location)
            partitions.append(output_partition(plan.tables["gold"], target.values, location))
    return build_manifest(
        args,
        started_at=started_at,
        completed_at=now(),
        records_in=records_in,
        records_out=records_out,
        records_quarantined=0,
        output_partitions=partitions,
        quarantine_location=None,
    )


FLOWS: Dict[str, Callable] = {"bronze": run_bronze, "silver": run_silver, "gold": run_gold}


def run_stage(stage: str, resolved: Mapping[str, object], engine_factory: Callable[[], Engine], stores, now: Callable[[], str] = iso_now) -> dict:
    """Entry point of every job script: arguments, plan and layout are checked before the engine
    (the Spark session) starts; the manifest is written only after the stage's outputs."""
    started_at = now()
    try:
        args = parse_job_args(resolved, stage)
        plan = parse_plan(stores.read_bytes(args.plan), args.plan.uri)
        check_against_plan(args, plan)
        # The catalog database as the run's registry names it (the stage's on AWS): where a CDC
        # dataset's Iceberg table is (cdc.py).
        plan = replace(plan, database=args.catalog_database)
        log("Stage starting", stage=stage, dataset=args.dataset, runId=args.run_id, jobRunId=args.job_run_id,
            partition=args.partition_path, source=args.source.uri, target=args.target.uri)
        manifest = FLOWS[stage](args, plan, engine_factory, stores, started_at, now)
        stores.write_text(args.manifest, manifest_json(manifest))
    except Exception as error:
        # Re-raised: Glue marks the run FAILED and shows the message as the JobRun ErrorMessage.
        known = isinstance(error, MedallionJobError)
        log("Stage failed", stage=stage, error=type(error).__name__, detail=str(error),
            retryable=error.retryable if known else None)
        raise
    log("Stage succeeded", manifest=args.manifest.uri, recordsIn=manifest["recordsIn"],
        recordsOut=manifest["recordsOut"], recordsQuarantined=manifest["recordsQuarantined"])
    return manifest
