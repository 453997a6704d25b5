import gzip
import hashlib
import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path
import unittest

from medallion_glue.errors import DatasetPlanError, JobArgumentError, LandingDataError, StageContractError
from medallion_glue.manifest import manifest_problems
from medallion_glue.stages import reconcile_silver, run_stage
from medallion_glue.storage import Stores

from .helpers import PARTITION, PARTITION_PATH, Clock, FakeEngine, LakeTestCase, plan_bytes


def no_s3():
    raise AssertionError("a file:// run must not create an S3 client")


class RecordingStores(Stores):
    """Real local stores that note how many engine calls had happened when the manifest was written."""

    def __init__(self, engine):
        super().__init__(no_s3)
        self.engine = engine
        self.manifest_written_after = None

    def write_text(self, location, text):
        self.manifest_written_after = list(self.engine.calls)
        super().write_text(location, text)


def order(order_id, reasons=None, **extra):
    return {"order_id": order_id, "_quarantine_reasons": reasons, **extra}


class StageTestCase(LakeTestCase):
    def run_stage(self, script_stage, engine, **override):
        self.engine = engine
        self.created = 0

        def factory():
            self.created += 1
            return engine

        self.stores = RecordingStores(engine)
        return run_stage(script_stage, self.lake.args(script_stage, **override), factory, self.stores, Clock())

    def manifest(self, stage):
        with open(self.lake.manifest_path(stage)) as handle:
            return json.load(handle)

    def assertNoManifest(self, stage):
        self.assertFalse(os.path.exists(self.lake.manifest_path(stage)), "a failed run must not leave a manifest")

    def assertNothingWritten(self):
        self.assertEqual([c for c in self.engine.calls if c[0] == "write_parquet"], [])


FEED_1 = b"order_id,customer_id,status,amount,currency,country,items,updated_at\nORD-00000002,C,paid,3,EUR,DE,1,2024-01-15 10:00:00\n"
FEED_2_HEADER = "AMOUNT,Order_Id, customer_id ,status,currency,country,items,updated_at"


class Bronze(StageTestCase):
    def test_ingests_the_partition_files_and_writes_the_manifest_last(self):
        # Prepare
        a = self.lake.land("orders batch 1.jsonl", b'{"order_id": "ORD-00000001"}\n')
        b = self.lake.land("feed-1.csv", FEED_1)
        c = self.lake.land("feed-2.CSV.gz", gzip.compress(FEED_2_HEADER.encode() + b"\n4,ORD-00000003,C,paid,EUR,DE,1,2024-01-15 10:00:00\n"))
        empty = self.lake.land("empty.jsonl", b"")
        engine = FakeEngine(landing_rows=[{"order_id": "1"}, {"order_id": "2"}, {"order_id": "3"}])
        # Act
        returned = self.run_stage("bronze", engine)
        # Assess
        read = engine.calls[0]
        self.assertEqual(read[0], "read_landing")
        self.assertEqual(read[1], [a])
        self.assertEqual(read[2], [
            (("order_id", "customer_id", "status", "amount", "currency", "country", "items", "updated_at"), "\n", [b]),
            (("amount", "order_id", "customer_id", "status", "currency", "country", "items", "updated_at"), "\n", [c]),
        ])
        self.assertEqual(read[4], "2024-01-15T10:00:01.000Z", "_ingested_at is the run's start")
        self.assertIn(("drop", "_corrupt_record"), engine.calls)
        self.assertEqual(engine.calls[-1], ("write_parquet", "landing", self.lake.args("bronze")["target_location"]))
        self.assertEqual(self.stores.manifest_written_after, engine.calls, "manifest written after the data")
        manifest = self.manifest("bronze")
        self.assertEqual(manifest, returned)
        self.assertEqual(manifest_problems(manifest), [])
        self.assertEqual((manifest["recordsIn"], manifest["recordsOut"], manifest["recordsQuarantined"]), (3, 3, 0))
        self.assertEqual(manifest["outputPartitions"], [
            {"table": "orders_bronze", "values": list(PARTITION), "location": self.lake.args("bronze")["target_location"]}
        ])
        self.assertIsNone(manifest["quarantineLocation"])
        self.assertEqual(manifest["skippedFiles"], [{"file": empty, "reason": "empty file (0 bytes): no records"}])
        landed = [("orders batch 1.jsonl", a), ("feed-1.csv", b), ("feed-2.CSV.gz", c), ("empty.jsonl", empty)]
        self.assertEqual(
            sorted(manifest["sourceFiles"], key=lambda f: f["key"]),
            sorted(
                [
                    {
                        "key": f"landing/shop/orders/{PARTITION_PATH}/{name}",
                        "size": os.path.getsize(uri[len("file://"):]),
                        "eTag": hashlib.md5(Path(uri[len("file://"):]).read_bytes()).hexdigest(),
                    }
                    for name, uri in landed
                ],
                key=lambda f: f["key"],
            ),
            "every file the run accounted for, read or skipped, with the identity on-landing sees",
        )
        self.assertEqual(manifest["jobRunId"], "jr_0123456789")
        landing = os.path.dirname(a[len("file://"):])
        self.assertEqual(sorted(os.listdir(landing)), ["empty.jsonl", "feed-1.csv", "feed-2.CSV.gz", "orders batch 1.jsonl"])
        with open(os.path.join(landing, "feed-1.csv"), "rb") as handle:
            self.assertEqual(handle.read(), FEED_1, "landing files are left as they were")

    def test_a_gz_file_named_in_upper_case_is_read_through_a_copy_deleted_after_the_run(self):
        # Prepare: Spark picks gzip by the lower-case '.gz' only; the job reads a copy named '.gz'
        landed = gzip.compress(FEED_2_HEADER.encode() + b"\n4,ORD-00000003,C,paid,EUR,DE,1,2024-01-15 10:00:00\n")
        upper = self.lake.land("FEED.CSV.GZ", landed)
        lines = self.lake.land("Web.Jsonl.Gz", gzip.compress(b'{"order_id": "ORD-00000001"}\n'))
        temp = self.lake.args("bronze")["TempDir"]
        copies = [temp + "medallion-gz-copies/jr_0123456789/0.csv.gz", temp + "medallion-gz-copies/jr_0123456789/1.jsonl.gz"]
        seen = {}

        class Engine(FakeEngine):
            def read_landing(engine, json_uris, csv_groups, columns, ingested_at, landed, on_drift="halt"):
                # the copies exist while the engine reads them, byte for byte the landed files
                seen["bytes"] = [Path(u[len("file://"):]).read_bytes() for u in copies]
                return super().read_landing(json_uris, csv_groups, columns, ingested_at, landed, on_drift)

        engine = Engine(landing_rows=[{"order_id": "1"}, {"order_id": "2"}])
        # Act
        manifest = self.run_stage("bronze", engine)
        # Assess: the engine read the copies and knows which landed file each stands for
        read = engine.calls[0]
        self.assertEqual(read[1], [copies[1]])
        self.assertEqual([uris for _, _, uris in read[2]], [[copies[0]]])
        self.assertEqual(read[5], {copies[0]: upper, copies[1]: lines})
        self.assertEqual(seen["bytes"], [landed, Path(lines[len("file://"):]).read_bytes()])
        # the manifest lists the landed files; the copies are gone, the landed files untouched
        self.assertEqual(sorted(f["key"].rsplit("/", 1)[-1] for f in manifest["sourceFiles"]), ["FEED.CSV.GZ", "Web.Jsonl.Gz"])
        self.assertEqual(os.listdir(self.lake.path("_system/tmp/medallion-gz-copies")), [])
        self.assertEqual(Path(upper[len("file://"):]).read_bytes(), landed)

    def test_the_copies_are_deleted_when_the_run_fails_too(self):
        # Prepare
        self.lake.land("FEED.JSONL.GZ", gzip.compress(b"{not json\n"))
        engine = FakeEngine(landing_rows=[{"order_id": "1"}], corrupt=["x"])
        # Act
        with self.assertRaises(StageContractError):
            self.run_stage("bronze", engine)
        # Assess
        self.assertEqual(os.listdir(self.lake.path("_system/tmp/medallion-gz-copies")), [])
        self.assertNoManifest("bronze")

    def test_without_a_temp_dir_an_upper_case_gz_fails_before_spark_starts_naming_it(self):
        upper = self.lake.land("FEED.CSV.GZ", gzip.compress(b"order_id\n1\n"))
        with self.assertRaisesRegex(LandingDataError, f"{upper}: a gzipped file whose name does not end in the lower-case '.gz'"):
            self.run_stage("bronze", FakeEngine(), TempDir=None)
        self.assertEqual(self.created, 0)
        self.assertNoManifest("bronze")

    def test_corrupt_records_fail_the_run_naming_the_files_and_write_nothing(self):
        bad = self.lake.land("a.jsonl", b"{not json\n")
        engine = FakeEngine(landing_rows=[{"order_id": "1"}], corrupt=[bad])
        with self.assertRaisesRegex(StageContractError, f"1 of 2 landing record\\(s\\) could not be parsed.*Files: {bad}"):
            self.run_stage("bronze", engine)
        self.assertNothingWritten()
        self.assertNoManifest("bronze")

    def test_an_unknown_file_in_the_partition_fails_before_spark_starts(self):
        self.lake.land("a.jsonl", b"{}\n")
        self.lake.land("a.xlsx", b"PK")
        with self.assertRaisesRegex(LandingDataError, "a.xlsx: not one of the dataset's formats"):
            self.run_stage("bronze", FakeEngine())
        self.assertEqual(self.created, 0)
        self.assertNoManifest("bronze")


class Silver(StageTestCase):
    def silver_engine(self, **override):
        bronze = [order(str(i), _ingested_at="t", _source_file="f", customer_id="c", status="paid", amount="1",
                        currency="EUR", country="DE", items="1", updated_at="u") for i in range(5)]
        validated = [order("A"), order("A"), order("B"), order("C", "amount_range"), order("D", "currency_accepted_values")]
        sql = {
            "sql.silver.validate": validated,
            "sql.silver.clean": [order("A"), order("B")],
            "sql.silver.quarantine": [order("C", "amount_range"), order("D", "currency_accepted_values")],
        }
        sql.update(override)
        return FakeEngine(parquet={"bronze": bronze}, sql=sql)

    def test_writes_clean_rows_and_quarantine_then_the_manifest(self):
        # Act
        manifest = self.run_stage("silver", self.silver_engine())
        # Assess
        args = self.lake.args("silver")
        self.assertEqual(self.engine.calls[0], ("read_parquet", args["source_location"], "bronze"))
        self.assertIn(("sql", "sql.silver.validate", "validated"), self.engine.calls)
        writes = [c for c in self.engine.calls if c[0] == "write_parquet"]
        self.assertEqual(writes, [
            ("write_parquet", "sql.silver.clean", args["target_location"]),
            ("write_parquet", "sql.silver.quarantine", args["quarantine_location"]),
        ])
        self.assertEqual(self.stores.manifest_written_after, self.engine.calls)
        self.assertEqual((manifest["recordsIn"], manifest["recordsOut"], manifest["recordsQuarantined"]), (5, 2, 2))
        self.assertEqual([p["table"] for p in manifest["outputPartitions"]], ["orders_silver", "orders_quarantine"])
        self.assertEqual(manifest["quarantineLocation"], args["quarantine_location"])
        self.assertEqual(self.manifest("silver"), manifest)

    def test_a_clean_run_still_replaces_the_quarantine_partition(self):
        engine = self.silver_engine(**{
            "sql.silver.validate": [order("A"), order("B"), order("C"), order("D"), order("E")],
            "sql.silver.clean": [order("A"), order("B"), order("C"), order("D"), order("E")],
            "sql.silver.quarantine": [],
        })
        engine.column_override["sql.silver.quarantine"] = ["order_id", "_quarantine_reasons"]
        manifest = self.run_stage("silver", engine)
        self.assertIn(("write_parquet", "sql.silver.quarantine", self.lake.args("silver")["quarantine_location"]), engine.calls)
        self.assertIsNone(manifest["quarantineLocation"])
        self.assertEqual([p["table"] for p in manifest["outputPartitions"]], ["orders_silver"])

    def test_sql_that_loses_rows_fails_the_run_before_anything_is_written(self):
        cases = {
            "validate drops a row": ({"sql.silver.validate": [order("A"), order("B"), order("C", "r"), order("D", "r")]},
                                     "validate returned 4 row\\(s\\) for 5 bronze row\\(s\\)"),
            "quarantine misses a row": ({"sql.silver.quarantine": [order("C", "amount_range")]},
                                        "quarantine returned 1 row\\(s\\) but sql.silver.validate flagged 2"),
            "clean drops a key": ({"sql.silver.clean": [order("A")]},
                                  "clean returned 1 row\\(s\\) for 2 distinct dedup key\\(s\\).*dropped silently"),
        }
        for name, (override, message) in cases.items():
            with self.subTest(name=name):
                with self.assertRaisesRegex(StageContractError, message):
                    self.run_stage("silver", self.silver_engine(**override))
                self.assertNothingWritten()
                self.assertNoManifest("silver")

    def test_bronze_without_its_lineage_columns_is_refused(self):
        engine = self.silver_engine()
        engine.column_override["bronze"] = ["order_id", "_ingested_at"]
        with self.assertRaisesRegex(StageContractError, "bronze at file://.* lacks column\\(s\\) \\['_source_file'\\]"):
            self.run_stage("silver", engine)

    def test_a_bronze_partition_older_than_a_declared_column_reads_it_as_empty(self):
        # Prepare: bronze written before customer_id and items were declared
        engine = self.silver_engine()
        engine.column_override["bronze"] = ["order_id", "status", "amount", "currency", "country", "updated_at", "_ingested_at", "_source_file"]
        # Act
        self.run_stage("silver", engine)
        # Assess: the view silver's SQL reads has them, empty
        self.assertIn(("with_empty_columns", ("customer_id", "items"), "bronze"), engine.calls)


class Cdc(StageTestCase):
    """mode: cdc: silver merges the batch's changes into the current state; gold reads that state."""

    def setUp(self):
        super().setUp()

        def cdc(plan):
            plan["dataset"]["mode"] = "cdc"
            plan["dataset"]["cdc"] = {"operation": {"column": "status", "insert": "placed", "update": "paid", "delete": "cancelled"},
                                      "sequence": "updated_at", "key": ["order_id"]}
            del plan["dataset"]["dedup"]
            plan["sql"]["silver"]["merge"] = "MERGE INTO {{target}} t USING changes s ON t.order_id = s.order_id WHEN NOT MATCHED THEN INSERT *"

        Path(self.lake.plan_path).write_bytes(plan_bytes(cdc))

    def test_silver_merges_the_changes_and_registers_no_silver_partition(self):
        # Prepare
        engine = Silver.silver_engine(self)
        # Act
        manifest = self.run_stage("silver", engine)
        # Assess: merged into the lake's table, not written as a partition; the quarantine is
        merged = [c for c in engine.calls if c[0] == "merge_current"]
        self.assertEqual(len(merged), 1)
        self.assertEqual(merged[0][1], "sql.silver.clean")
        self.assertTrue(merged[0][3].endswith("/") and "/silver/" not in merged[0][3], merged[0][3])
        self.assertNotIn(self.lake.args("silver")["target_location"], engine.written)
        self.assertEqual([p["table"] for p in manifest["outputPartitions"]], ["orders_quarantine"])
        self.assertEqual((manifest["recordsIn"], manifest["recordsOut"], manifest["recordsQuarantined"]), (5, 2, 2))

    def test_gold_reads_the_current_state(self):
        # Prepare
        engine = FakeEngine(parquet={"current": [order("A"), order("B")]}, sql={"sql.gold.select": [{"country": "DE"}]})
        # Act
        manifest = self.run_stage("gold", engine)
        # Assess
        self.assertEqual([c[0] for c in engine.calls][:1], ["read_current"])
        self.assertEqual(manifest["recordsIn"], 2)


class Gold(StageTestCase):
    def test_runs_the_gold_select_over_silver(self):
        engine = FakeEngine(parquet={"silver": [{"x": 1}] * 4}, sql={"sql.gold.select": [{"country": "DE"}] * 9})
        manifest = self.run_stage("gold", engine)
        args = self.lake.args("gold")
        self.assertEqual(engine.calls[0], ("read_parquet", args["source_location"], "silver"))
        self.assertEqual(engine.calls[-1], ("write_parquet", "sql.gold.select", args["target_location"]))
        self.assertEqual((manifest["recordsIn"], manifest["recordsOut"]), (4, 9))
        self.assertEqual(manifest["outputPartitions"][0]["table"], "orders_daily_revenue")


class RunStage(StageTestCase):
    def test_contract_violations_fail_before_the_engine_starts(self):
        cases = [
            ({"partition_path": "year=2024/month=01/day=16"}, JobArgumentError, "--partition_path"),
            ({"dataset_plan": "file:///nonexistent/plan.json"}, Exception, "cannot read file:///nonexistent/plan.json"),
            ({"stage": "gold"}, JobArgumentError, "--stage: 'gold' was passed to the silver job"),
        ]
        for override, error, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(error, message):
                    self.run_stage("silver", FakeEngine(), **override)
                self.assertEqual(self.created, 0)
                self.assertNoManifest("silver")

    def test_an_engine_failure_is_logged_and_re_raised_without_a_manifest(self):
        class Exploding(FakeEngine):
            def write_parquet(self, frame, uri):
                raise RuntimeError("S3 503 Slow Down")

        engine = Exploding(parquet={"silver": [{"x": 1}]}, sql={"sql.gold.select": [{"x": 1}]})
        with redirect_stdout(io.StringIO()) as out, self.assertRaisesRegex(RuntimeError, "Slow Down"):
            self.run_stage("gold", engine)
        failed = [json.loads(line) for line in out.getvalue().splitlines() if "Stage failed" in line]
        self.assertEqual(failed[0]["error"], "RuntimeError")
        self.assertNoManifest("gold")

    def test_a_broken_plan_names_its_location(self):
        with open(self.lake.plan_path, "w") as handle:
            handle.write('{"version": 1}')
        with self.assertRaisesRegex(DatasetPlanError, f"file://{self.lake.plan_path}: missing field 'dataset.name'"):
            self.run_stage("gold", FakeEngine())


class ReconcileSilver(unittest.TestCase):
    def test_superseded_duplicates_are_the_only_rows_not_carried(self):
        self.assertEqual(reconcile_silver(records_in=10, validated=10, valid=8, valid_keys=5, clean=5, quarantined=2), 3)
        self.assertEqual(reconcile_silver(records_in=3, validated=3, valid=3, valid_keys=None, clean=3, quarantined=0), 0)

    def test_without_dedup_every_valid_row_must_be_clean(self):
        with self.assertRaisesRegex(StageContractError, "clean returned 2 row\\(s\\) for 3 valid row\\(s\\)"):
            reconcile_silver(records_in=3, validated=3, valid=3, valid_keys=None, clean=2, quarantined=0)

    def test_invented_rows_are_refused(self):
        with self.assertRaisesRegex(StageContractError, "invented silently"):
            reconcile_silver(records_in=3, validated=3, valid=3, valid_keys=2, clean=3, quarantined=0)


if __name__ == "__main__":
    unittest.main()
