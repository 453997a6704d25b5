"""The compiled dataset plan (`medallion compile` → <dataset>.json, job argument --dataset_plan):
{"version": 1, "dataset": {...definition incl. goldSql}, "sql": {"silver": {"validate", "clean",
"quarantine"}, "gold": {"select"}}}. Parsed strictly: a plan the jobs cannot honour fails the run."""

import json
import re
from dataclasses import dataclass
from typing import Optional, Tuple

from .contract import FORMAT_EXTENSIONS, PLAN_VERSION
from .errors import DatasetPlanError

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
ZONES = ("bronze", "silver", "gold", "quarantine")
# shared/domain/landed-files.ts DRIFT_POLICIES.
DRIFT_POLICIES = ("alert", "halt")


@dataclass(frozen=True)
class PartitionKey:
    name: str
    pattern: Optional[str]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool


@dataclass(frozen=True)
class Plan:
    version: int
    dataset: str
    landing_prefix: str
    formats: Tuple[str, ...]
    partition_keys: Tuple[PartitionKey, ...]
    columns: Tuple[Column, ...]
    tables: dict
    dedup_key: Optional[Tuple[str, ...]]
    # dataset.yml onDrift: what bronze does with a landed file whose columns drift (landing.match_columns).
    on_drift: str
    validate_sql: str
    clean_sql: str
    quarantine_sql: str
    gold_sql: str
    # The Glue database of the dataset's tables.
    database: str = ""
    # CDC datasets (mode: cdc): the MERGE of the batch's changes into the current state (cdc.py).
    merge_sql: Optional[str] = None

    @property
    def is_cdc(self) -> bool:
        return self.merge_sql is not None

    @property
    def column_names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _kind_name(kind) -> str:
    return {str: "a string", int: "an integer", list: "a list", dict: "an object"}[kind]


def _at(obj, parts, kind, source: str, required: bool = True):
    """The value at `parts` (keys / list indexes), checked against `kind`; errors name the field."""
    node = obj
    for i, part in enumerate(parts):
        container_ok = isinstance(node, list) if isinstance(part, int) else isinstance(node, dict)
        if not container_ok:
            raise DatasetPlanError(f"{source}: field {_path(parts[:i])!r} must be {'a list' if isinstance(part, int) else 'an object'}")
        if isinstance(part, int) and part >= len(node) or not isinstance(part, int) and part not in node:
            if not required:
                return None
            raise DatasetPlanError(f"{source}: missing field {_path(parts)!r}")
        node = node[part]
    if node is None and not required:
        return None
    if not isinstance(node, kind) or isinstance(node, bool):
        raise DatasetPlanError(
            f"{source}: field {_path(parts)!r} must be {_kind_name(kind)}, got {type(node).__name__}"
        )
    return node


def _sql(plan, parts, source: str) -> str:
    text = _at(plan, parts, str, source)
    if not text.strip():
        raise DatasetPlanError(f"{source}: field {_path(parts)!r} is empty")
    return text


def parse_plan(raw: bytes, source: str) -> Plan:
    """Parses and checks a plan. `source` (its URI) prefixes every error message."""
    try:
        plan = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise DatasetPlanError(f"{source}: not valid UTF-8 JSON ({error})") from error
    if not isinstance(plan, dict):
        raise DatasetPlanError(f"{source}: expected a JSON object at the top level")
    version = _at(plan, ["version"], int, source)
    if version != PLAN_VERSION:
        raise DatasetPlanError(f"{source}: field 'version' is {version}, this job reads plan version {PLAN_VERSION}")

    name = _at(plan, ["dataset", "name"], str, source)
    prefix = _at(plan, ["dataset", "landing", "prefix"], str, source)
    formats = _at(plan, ["dataset", "landing", "formats"], list, source)
    for i, f in enumerate(formats):
        if f not in FORMAT_EXTENSIONS:
            raise DatasetPlanError(
                f"{source}: field 'dataset.landing.formats[{i}]' is {f!r}, expected one of {sorted(FORMAT_EXTENSIONS)}"
            )

    keys = []
    for i in range(len(_at(plan, ["dataset", "partitionKeys"], list, source))):
        key_name = _at(plan, ["dataset", "partitionKeys", i, "name"], str, source)
        pattern = _at(plan, ["dataset", "partitionKeys", i, "pattern"], str, source, required=False)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise DatasetPlanError(
                    f"{source}: field 'dataset.partitionKeys[{i}].pattern' {pattern!r} is not a valid "
                    f"regular expression ({error})"
                ) from error
        keys.append(PartitionKey(key_name, pattern))
    if not keys:
        raise DatasetPlanError(f"{source}: field 'dataset.partitionKeys' is empty")

    columns = []
    for i in range(len(_at(plan, ["dataset", "columns"], list, source))):
        col_name = _at(plan, ["dataset", "columns", i, "name"], str, source)
        if not IDENTIFIER.match(col_name):
            raise DatasetPlanError(f"{source}: field 'dataset.columns[{i}].name' {col_name!r} is not lower_snake_case")
        col_type = _at(plan, ["dataset", "columns", i, "type"], str, source)
        nullable = plan["dataset"]["columns"][i].get("nullable", True) is not False
        columns.append(Column(col_name, col_type, nullable))
    if not columns:
        raise DatasetPlanError(f"{source}: field 'dataset.columns' is empty")

    tables = {zone: _at(plan, ["dataset", "catalog", "tables", zone], str, source) for zone in ZONES}

    dedup_key = None
    if _at(plan, ["dataset", "dedup"], dict, source, required=False) is not None:
        dedup_key = tuple(_at(plan, ["dataset", "dedup", "key"], list, source))
        unknown = [k for k in dedup_key if k not in {c.name for c in columns}]
        if not dedup_key or unknown:
            raise DatasetPlanError(
                f"{source}: field 'dataset.dedup.key' must name declared columns, got {list(dedup_key)}"
            )

    on_drift = _at(plan, ["dataset", "onDrift"], str, source, required=False) or "halt"
    if on_drift not in DRIFT_POLICIES:
        raise DatasetPlanError(f"{source}: field 'dataset.onDrift' is {on_drift!r}, expected one of {list(DRIFT_POLICIES)}")

    mode = _at(plan, ["dataset", "mode"], str, source, required=False) or "append"
    if mode not in ("append", "cdc"):
        raise DatasetPlanError(f"{source}: field 'dataset.mode' is {mode!r}, expected 'append' or 'cdc'")
    merge_sql = _sql(plan, ["sql", "silver", "merge"], source) if mode == "cdc" else None
    if mode == "cdc":
        # The batch keeps the latest change per key: its key is the deduplication key of the counts.
        dedup_key = tuple(_at(plan, ["dataset", "cdc", "key"], list, source))
        unknown = [k for k in dedup_key if k not in {c.name for c in columns}]
        if not dedup_key or unknown:
            raise DatasetPlanError(f"{source}: field 'dataset.cdc.key' must name declared columns, got {list(dedup_key)}")

    return Plan(
        version=version,
        dataset=name,
        landing_prefix=prefix,
        formats=tuple(formats),
        partition_keys=tuple(keys),
        columns=tuple(columns),
        tables=dict(tables),
        dedup_key=dedup_key,
        on_drift=on_drift,
        database=_at(plan, ["dataset", "catalog", "database"], str, source),
        merge_sql=merge_sql,
        validate_sql=_sql(plan, ["sql", "silver", "validate"], source),
        clean_sql=_sql(plan, ["sql", "silver", "clean"], source),
        quarantine_sql=_sql(plan, ["sql", "silver", "quarantine"], source),
        gold_sql=_sql(plan, ["sql", "gold", "select"], source),
    )
