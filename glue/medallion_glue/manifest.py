"""The run manifest: Python twin of shared/domain/manifest.ts (manifestSchema). test/glue runs this
module's output through the zod schema, and both validators over the same samples, so the two
definitions cannot drift apart silently."""

import json
import re
from datetime import date, datetime, timezone
from typing import Iterable, List, Mapping, Optional

from .args import JobArgs
from .contract import MANIFEST_VERSION, STAGES
from .errors import ManifestError

KEYS = (
    "version",
    "dataset",
    "stage",
    "runId",
    "jobRunId",
    "startedAt",
    "completedAt",
    "recordsIn",
    "recordsOut",
    "recordsQuarantined",
    "outputPartitions",
    "quarantineLocation",
)
# Optional keys: written only when there is something to say.
OPTIONAL_KEYS = ("skippedFiles", "sourceFiles", "schemaDrift")
SKIPPED_KEYS = ("file", "reason")
# Bronze: every landed file the run accounted for, as a listing shows it (shared/domain/source-files.ts).
SOURCE_KEYS = ("key", "size", "eTag")
# Bronze under onDrift: alert: each landed file whose columns drift (landing.match_columns), sorted by file.
DRIFT_KEYS = ("file", "undeclared", "missing")
PARTITION_KEYS = ("table", "values", "location")
# zod 4 z.iso.datetime(): seconds required, optional fraction, "Z" only (no offsets).
ISO_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$")


def iso_now(now: Optional[datetime] = None) -> str:
    """UTC instant formatted like JavaScript's Date.toISOString() (milliseconds, "Z")."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def output_partition(table: str, values: Iterable[str], location: str) -> dict:
    return {"table": table, "values": list(values), "location": location}


def source_file(key: str, size: int, etag: str) -> dict:
    """One landed file of the run's partition: its key in the lake, size and eTag (without quotes)."""
    bare = etag[1:-1] if len(etag) >= 2 and etag.startswith('"') and etag.endswith('"') else etag
    return {"key": key, "size": size, "eTag": bare}


def build_manifest(
    args: JobArgs,
    *,
    started_at: str,
    completed_at: str,
    records_in: int,
    records_out: int,
    records_quarantined: int,
    output_partitions: List[dict],
    quarantine_location: Optional[str],
    skipped_files: Iterable[dict] = (),
    source_files: Optional[Iterable[dict]] = None,
    schema_drift: Iterable[dict] = (),
) -> dict:
    """Builds and validates the manifest of one successful stage run."""
    manifest = {
        "version": MANIFEST_VERSION,
        "dataset": args.dataset,
        "stage": args.stage,
        "runId": args.run_id,
        "jobRunId": args.job_run_id,
        "startedAt": started_at,
        "completedAt": completed_at,
        "recordsIn": records_in,
        "recordsOut": records_out,
        "recordsQuarantined": records_quarantined,
        "outputPartitions": output_partitions,
        "quarantineLocation": quarantine_location,
    }
    skipped = list(skipped_files)
    if skipped:
        manifest["skippedFiles"] = skipped
    if source_files is not None:
        manifest["sourceFiles"] = list(source_files)
    drift = sorted(schema_drift, key=lambda d: d["file"])
    if drift:
        manifest["schemaDrift"] = drift
    validate_manifest(manifest)
    return manifest


def _nonempty(value) -> bool:
    return isinstance(value, str) and len(value) >= 1


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _datetime(value) -> bool:
    if not isinstance(value, str):
        return False
    match = ISO_DATETIME.match(value)
    if not match:
        return False
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


def _object_entries(manifest: Mapping, name: str, allowed: Iterable[str], problems: List[str]):
    """The (where, entry) pairs of the list of objects `name`, when present; shape problems go to `problems`."""
    if name not in manifest:
        return
    entries = manifest[name]
    if not isinstance(entries, list):
        problems.append(f"{name}: must be a list")
        return
    for i, entry in enumerate(entries):
        where = f"{name}[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        extra = sorted(set(entry) - set(allowed))
        if extra:
            problems.append(f"{where}: unknown keys {extra}")
        yield where, entry


def manifest_problems(manifest: object) -> List[str]:
    """Every way `manifest` breaks the contract, as '<field>: <problem>' (empty when valid)."""
    if not isinstance(manifest, Mapping):
        return ["(root): must be an object"]
    problems = []
    unknown = sorted(set(manifest) - set(KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        problems.append(f"(root): unknown keys {unknown}")
    for key in KEYS:
        if key not in manifest:
            problems.append(f"{key}: missing")
    get = manifest.get
    if "version" in manifest and (get("version") != MANIFEST_VERSION or isinstance(get("version"), bool)):
        problems.append(f"version: must be {MANIFEST_VERSION}")
    for key in ("dataset", "runId", "jobRunId"):
        if key in manifest and not _nonempty(get(key)):
            problems.append(f"{key}: must be a non-empty string")
    if "stage" in manifest and get("stage") not in STAGES:
        problems.append(f"stage: must be one of {', '.join(STAGES)}")
    for key in ("startedAt", "completedAt"):
        if key in manifest and not _datetime(get(key)):
            problems.append(f"{key}: must be an ISO-8601 UTC datetime like 2024-01-15T10:21:09.000Z")
    for key in ("recordsIn", "recordsOut", "recordsQuarantined"):
        if key in manifest and not _count(get(key)):
            problems.append(f"{key}: must be an integer >= 0")
    for where, p in _object_entries(manifest, "outputPartitions", PARTITION_KEYS, problems):
        for key in ("table", "location"):
            if not _nonempty(p.get(key)):
                problems.append(f"{where}.{key}: must be a non-empty string")
        values = p.get("values")
        if not isinstance(values, list) or not values or not all(_nonempty(v) for v in values):
            problems.append(f"{where}.values: must be a non-empty list of non-empty strings")
    if "quarantineLocation" in manifest and get("quarantineLocation") is not None and not _nonempty(get("quarantineLocation")):
        problems.append("quarantineLocation: must be a non-empty string or null")
    for where, f in _object_entries(manifest, "skippedFiles", SKIPPED_KEYS, problems):
        for key in SKIPPED_KEYS:
            if not _nonempty(f.get(key)):
                problems.append(f"{where}.{key}: must be a non-empty string")
    for where, f in _object_entries(manifest, "sourceFiles", SOURCE_KEYS, problems):
        for key in ("key", "eTag"):
            if not _nonempty(f.get(key)):
                problems.append(f"{where}.{key}: must be a non-empty string")
        if not _count(f.get("size")):
            problems.append(f"{where}.size: must be an integer >= 0")
    for where, d in _object_entries(manifest, "schemaDrift", DRIFT_KEYS, problems):
        if not _nonempty(d.get("file")):
            problems.append(f"{where}.file: must be a non-empty string")
        for key in ("undeclared", "missing"):
            names = d.get(key)
            if not isinstance(names, list) or not all(_nonempty(n) for n in names):
                problems.append(f"{where}.{key}: must be a list of non-empty strings")
    counts = [get(k) for k in ("recordsIn", "recordsOut", "recordsQuarantined")]
    if not problems and all(_count(c) for c in counts) and get("stage") != "gold":
        if counts[1] + counts[2] > counts[0]:
            problems.append("recordsOut: recordsOut + recordsQuarantined must not exceed recordsIn (rows were invented)")
    return problems


def validate_manifest(manifest: object) -> None:
    problems = manifest_problems(manifest)
    if problems:
        raise ManifestError("invalid run manifest: " + "; ".join(problems))


def manifest_json(manifest: dict) -> str:
    validate_manifest(manifest)
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
