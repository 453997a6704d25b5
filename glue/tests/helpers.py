"""Shared fixtures: the compiled orders plan (a snapshot of `medallion compile`), a folder lake in a
temporary directory, the job arguments glueArguments() would pass, and a fake engine."""

import json
import os
import shutil
import tempfile
import unittest
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PARTITION = ("2024", "01", "15")
PARTITION_PATH = "year=2024/month=01/day=15"
RUN_ID = "orders-2024-01-15-0123456789abcdef"


def plan_dict() -> dict:
    return json.loads((FIXTURES / "orders.plan.json").read_text())


def plan_bytes(mutate=None) -> bytes:
    plan = plan_dict()
    if mutate:
        mutate(plan)
    return json.dumps(plan).encode()


class Lake:
    """A file:// lake: landing, zones, the plan file; the job arguments of one stage run."""

    def __init__(self, root: str):
        self.root = root
        self.uri = "file://" + root + "/"
        self.plan_path = os.path.join(root, "_system", "plans", "orders.json")
        os.makedirs(os.path.dirname(self.plan_path))
        Path(self.plan_path).write_bytes(plan_bytes())

    def path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def land(self, name: str, content: bytes) -> str:
        key = f"landing/shop/orders/{PARTITION_PATH}/{name}"
        os.makedirs(os.path.dirname(self.path(key)), exist_ok=True)
        Path(self.path(key)).write_bytes(content)
        return self.uri + key

    def args(self, for_stage: str, **override) -> dict:
        stage = for_stage
        source = {
            "bronze": f"landing/shop/orders/{PARTITION_PATH}/",
            "silver": f"bronze/orders/{PARTITION_PATH}/",
            "gold": f"silver/orders/{PARTITION_PATH}/",
        }[stage]
        args = {
            "dataset": "orders",
            "stage": stage,
            "run_id": RUN_ID,
            "partition_path": PARTITION_PATH,
            "partition_values": json.dumps(list(PARTITION)),
            "source_location": self.uri + source,
            "target_location": self.uri + f"{stage}/orders/{PARTITION_PATH}/",
            "quarantine_location": self.uri + f"quarantine/orders/{PARTITION_PATH}/",
            "manifest_location": self.uri + f"_manifests/orders/{stage}/{RUN_ID}.json",
            "dataset_plan": "file://" + self.plan_path,
            "catalog_database": "shop_lake",
            "JOB_RUN_ID": "jr_0123456789",
            "JOB_NAME": f"medallion-{stage}",
            # Glue passes the job's --TempDir (the stack sets one on every job).
            "TempDir": self.uri + "_system/tmp/",
        }
        if stage == "gold":
            # The gold job's window (shared/domain/gold-window.ts): the partition alone.
            args["gold_window"] = json.dumps({"size": 1, "partitions": [{"path": PARTITION_PATH, "values": list(PARTITION)}]})
        args.update(override)
        return args

    def manifest_path(self, stage: str) -> str:
        return self.path(f"_manifests/orders/{stage}/{RUN_ID}.json")


class LakeTestCase(unittest.TestCase):
    def setUp(self):
        root = tempfile.mkdtemp(prefix="medallion-glue-")
        self.addCleanup(shutil.rmtree, root, True)
        self.lake = Lake(root)


class Clock:
    """Deterministic ISO timestamps, one second apart."""

    def __init__(self):
        self.ticks = 0

    def __call__(self) -> str:
        self.ticks += 1
        return f"2024-01-15T10:00:{self.ticks:02d}.000Z"


class FakeEngine:
    """Stands in for Spark: records every call; `frames` maps SQL labels/views to row lists.

    Rows are dicts; `count(where=CLEAN_ROW)` understands the one predicate the flows use."""

    def __init__(self, *, landing_rows=None, corrupt=(), parquet=None, sql=None, columns=None):
        self.calls = []
        self.landing_rows = landing_rows or []
        self.corrupt = list(corrupt)
        self.parquet = parquet or {}
        self.sql_results = sql or {}
        self.column_override = columns or {}
        self.written = {}

    def _frame(self, name, rows):
        return {"name": name, "rows": rows}

    def merge_current(self, changes, plan, lake_root_uri):
        self.calls.append(("merge_current", changes["name"], plan.merge_sql, lake_root_uri))

    def read_current(self, plan, lake_root_uri, view):
        self.calls.append(("read_current", lake_root_uri, view))
        return self._frame(view, self.parquet.get("current", []))

    def with_empty_columns(self, frame, columns, view):
        self.calls.append(("with_empty_columns", tuple(columns), view))
        rows = [{**r, **{c: None for c in columns}} for r in frame["rows"]]
        return {**frame, "rows": rows, "columns": list(frame.get("columns", [])) + list(columns)}

    def json_drift(self):
        return {}

    def read_landing(self, json_uris, csv_groups, columns, ingested_at, landed, on_drift="halt"):
        self.calls.append(("read_landing", list(json_uris), [(tuple(h), sep, list(u)) for h, sep, u in csv_groups], tuple(columns), ingested_at, dict(landed)))
        return self._frame("landing", self.landing_rows + [{"_corrupt_record": "x", "_source_file": f} for f in self.corrupt])

    def corrupt_records(self, frame):
        bad = [r for r in frame["rows"] if r.get("_corrupt_record")]
        return len(bad), sorted({r["_source_file"] for r in bad})

    def drop(self, frame, column):
        self.calls.append(("drop", column))
        return self._frame(frame["name"], [{k: v for k, v in r.items() if k != column} for r in frame["rows"]])

    def read_parquet(self, uri, view):
        self.calls.append(("read_parquet", uri, view))
        return self._frame(view, self.parquet.get(view, []))

    def sql(self, text, label, view=None):
        self.calls.append(("sql", label, view))
        return self._frame(label, self.sql_results[label])

    def columns(self, frame):
        if frame["name"] in self.column_override:
            return self.column_override[frame["name"]]
        names = []
        for row in frame["rows"]:
            names += [k for k in row if k not in names]
        return names

    def count(self, frame, where=None):
        rows = frame["rows"]
        if where is not None:
            rows = [r for r in rows if not r.get("_quarantine_reasons")]
        return len(rows)

    def distinct_count(self, frame, columns, where=None):
        rows = [r for r in frame["rows"] if where is None or not r.get("_quarantine_reasons")]
        return len({tuple(r.get(c) for c in columns) for r in rows})

    def write_parquet(self, frame, uri):
        self.calls.append(("write_parquet", frame["name"], uri))
        self.written[uri] = frame["rows"]
