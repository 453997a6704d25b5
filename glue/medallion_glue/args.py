"""The job argument contract (shared/domain/glue-args.ts): parse what getResolvedOptions returns,
then check it against the dataset plan and the lake layout before touching any data."""

import json
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Tuple

from .contract import JOB_ARGS, RUN_ID_PATTERN, STAGES
from .errors import JobArgumentError
from .gold_window import GOLD_WINDOW, GoldTarget, gold_targets
from .locations import Location, expected_locations, is_within, lake_root, parse_location
from .plan import Plan

# Glue passes these itself; getResolvedOptions returns them without being asked (asking is an error).
GLUE_RUN_ID = "JOB_RUN_ID"
GLUE_TEMP_DIR = "TempDir"


def _temp_dir(resolved: Mapping[str, object]) -> Optional[Location]:
    """--TempDir, an s3:// (on Glue) or file:// folder; a missing trailing '/' is added."""
    value = resolved.get(GLUE_TEMP_DIR)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise JobArgumentError(f"--{GLUE_TEMP_DIR}: must be a string, got {value!r}")
    return parse_location(value if value.endswith("/") else value + "/", GLUE_TEMP_DIR)


@dataclass(frozen=True)
class JobArgs:
    dataset: str
    stage: str
    run_id: str
    job_run_id: str
    partition_path: str
    partition_values: Tuple[str, ...]
    source: Location
    target: Location
    quarantine: Location
    manifest: Location
    plan: Location
    # The Glue database of the dataset's tables as deployed (`<database>_<stage>` on AWS): where a CDC
    # dataset's Iceberg table is (cdc.py).
    catalog_database: str
    # Glue's --TempDir (the stack sets it on every job): where the bronze job puts the copies it reads
    # instead of a landed file (landing.gz_copies). None when the run has none.
    temp_dir: Optional[Location] = None
    # The gold job's window (--gold_window, gold_window.py): the gold partitions it writes, the run's own
    # first. Empty for bronze and silver.
    gold_targets: Sequence[GoldTarget] = ()


def _text(resolved: Mapping[str, object], name: str) -> str:
    value = resolved.get(name)
    if value is None:
        raise JobArgumentError(f"--{name}: missing (every stage's job needs {', '.join('--' + a for a in JOB_ARGS)})")
    if not isinstance(value, str) or value.strip() == "":
        raise JobArgumentError(f"--{name}: must be a non-empty string, got {value!r}")
    return value


def _folder(resolved, name: str) -> Location:
    location = parse_location(_text(resolved, name), name)
    if not location.is_folder:
        raise JobArgumentError(f"--{name}: {location.uri!r} must be a folder location ending with '/'")
    return location


def parse_job_args(resolved: Mapping[str, object], stage: str) -> JobArgs:
    """`resolved` is getResolvedOptions(sys.argv, JOB_ARGS); `stage` is the script's own stage."""
    if stage not in STAGES:
        raise JobArgumentError(f"unknown stage {stage!r} (expected one of {', '.join(STAGES)})")
    given_stage = _text(resolved, "stage")
    if given_stage != stage:
        raise JobArgumentError(f"--stage: {given_stage!r} was passed to the {stage} job (the state machine wired the wrong job)")

    run_id = _text(resolved, "run_id")
    if not re.match(RUN_ID_PATTERN, run_id):
        raise JobArgumentError(f"--run_id: {run_id!r} is not an execution name (1-80 chars of A-Z a-z 0-9 - _)")

    job_run_id = resolved.get(GLUE_RUN_ID)
    if not isinstance(job_run_id, str) or not job_run_id:
        raise JobArgumentError(f"--{GLUE_RUN_ID}: missing (Glue passes it to every job run; it is the manifest's jobRunId)")

    raw_values = _text(resolved, "partition_values")
    try:
        values = json.loads(raw_values)
    except ValueError as error:
        raise JobArgumentError(f"--partition_values: {raw_values!r} is not JSON ({error})") from error
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise JobArgumentError(f"--partition_values: {raw_values!r} must be a JSON array of non-empty strings")

    manifest = parse_location(_text(resolved, "manifest_location"), "manifest_location")
    if not manifest.key.endswith(".json"):
        raise JobArgumentError(f"--manifest_location: {manifest.uri!r} must name a .json object")
    plan = parse_location(_text(resolved, "dataset_plan"), "dataset_plan")
    if plan.is_folder:
        raise JobArgumentError(f"--dataset_plan: {plan.uri!r} must name the plan file, not a folder")

    return JobArgs(
        dataset=_text(resolved, "dataset"),
        stage=stage,
        run_id=run_id,
        job_run_id=job_run_id,
        partition_path=_text(resolved, "partition_path"),
        partition_values=tuple(values),
        source=_folder(resolved, "source_location"),
        target=_folder(resolved, "target_location"),
        quarantine=_folder(resolved, "quarantine_location"),
        manifest=manifest,
        plan=plan,
        catalog_database=_text(resolved, "catalog_database"),
        temp_dir=_temp_dir(resolved),
        gold_targets=tuple(gold_targets(_text(resolved, GOLD_WINDOW))) if stage == "gold" else (),
    )


def check_against_plan(args: JobArgs, plan: Plan) -> None:
    """The arguments must describe one partition of the plan's dataset, laid out as glueArguments()
    lays it out, and no output may land inside the source (landing is never written)."""
    if plan.dataset != args.dataset:
        raise JobArgumentError(f"--dataset: {args.dataset!r} but --dataset_plan {args.plan.uri} is for {plan.dataset!r}")
    # The declared database, or as a stage deploys it: `<database>_<stage>` (shared/domain/stage-names.ts).
    if args.catalog_database != plan.database and not re.fullmatch(
        re.escape(plan.database) + r"_[a-z0-9_]{1,15}", args.catalog_database
    ):
        raise JobArgumentError(
            f"--catalog_database: {args.catalog_database!r} is not the plan's database {plan.database!r} "
            f"(or its stage's name, {plan.database!r}_<stage>)"
        )

    _check_partition(plan, args.partition_values, args.partition_path, "--partition_values", "--partition_path")
    for target in args.gold_targets:
        _check_partition(plan, target.values, target.path, f"--{GOLD_WINDOW} values", f"--{GOLD_WINDOW} path")

    root = lake_root(args.target, args.stage, args.dataset, args.partition_path)
    expected = expected_locations(root, args.stage, args.dataset, plan.landing_prefix, args.partition_path, args.run_id)
    given = {
        "source_location": args.source,
        "target_location": args.target,
        "quarantine_location": args.quarantine,
        "manifest_location": args.manifest,
    }
    for name, location in given.items():
        if location.uri != expected[name]:
            raise JobArgumentError(
                f"--{name}: {location.uri!r} does not follow the lake layout; expected {expected[name]!r}"
            )
    for name in ("target_location", "quarantine_location", "manifest_location"):
        if is_within(given[name], args.source) or is_within(args.source, given[name]):
            raise JobArgumentError(f"--{name}: {given[name].uri!r} overlaps the source {args.source.uri!r}")
    if args.temp_dir is not None:
        for name in ("source_location", "target_location", "quarantine_location"):
            if is_within(args.temp_dir, given[name]):
                raise JobArgumentError(
                    f"--{GLUE_TEMP_DIR}: {args.temp_dir.uri!r} lies inside --{name} {given[name].uri!r} (the "
                    f"job's temporary files must stay out of the partitions it reads and writes)"
                )


def _check_partition(plan: Plan, values: Sequence[str], path: str, values_arg: str, path_arg: str) -> None:
    """`values` are one partition of the plan's dataset and `path` its hive path."""
    keys = plan.partition_keys
    if len(values) != len(keys):
        raise JobArgumentError(
            f"{values_arg}: {len(values)} value(s) for the {len(keys)} partition key(s) "
            f"{[k.name for k in keys]} of dataset {plan.dataset!r}"
        )
    for key, value in zip(keys, values):
        if not isinstance(value, str) or not value:
            raise JobArgumentError(f"{values_arg}: value {value!r} of key {key.name!r} must be a non-empty string")
        if key.pattern is not None and not re.search(key.pattern, value):
            raise JobArgumentError(f"{values_arg}: value {value!r} of key {key.name!r} does not match {key.pattern}")
        if "/" in value:
            raise JobArgumentError(f"{values_arg}: value {value!r} of key {key.name!r} contains '/'")
    expected_path = "/".join(f"{k.name}={v}" for k, v in zip(keys, values))
    if path != expected_path:
        raise JobArgumentError(f"{path_arg}: {path!r} disagrees with {values_arg} (expected {expected_path!r})")
