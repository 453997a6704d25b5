"""The three Glue job scripts, run end to end on real Spark (pyspark 3.5.6, Glue 5.1's Spark) against a
file:// lake: bronze, silver and gold of the shipped orders dataset, their Parquet outputs and manifests."""

import gzip
import json
import os
from contextlib import redirect_stdout
import io

from medallion_glue.manifest import manifest_problems

from .helpers import PARTITION, PARTITION_PATH, LakeTestCase
from .spark import spark_session

from spark_jobs import run_job  # glue/local (on sys.path through .spark)

JSONL = b"".join(
    json.dumps(r).encode() + b"\n"
    for r in [
        # two versions of one order: the later updated_at wins
        {"order_id": "ORD-00000001", "customer_id": "C1", "status": "placed", "amount": "10.50", "currency": "EUR",
         "country": "DE", "items": 2, "updated_at": "2024-01-15T09:00:00Z"},
        {"order_id": "ORD-00000001", "customer_id": "C1", "status": "shipped", "amount": 10.5, "currency": "EUR",
         "country": "DE", "items": "2", "updated_at": "2024-01-15 12:00:00"},
        # rule failures, each named
        {"order_id": "ORD-00000003", "customer_id": "C3", "status": "paid", "amount": "-5", "currency": "EUR",
         "country": "DE", "items": 1, "updated_at": "2024-01-15 10:00:00"},
        {"order_id": "X-1", "customer_id": "C4", "status": "paid", "amount": "1", "currency": "XXX",
         "country": "FR", "items": "2.5", "updated_at": "2024-01-15 10:00:00"},
    ]
)
CSV_GZ = gzip.compress(
    b"Order_Id,customer_id,STATUS,amount,currency,country,items,updated_at\r\n"
    b"ORD-00000002,C2,paid,5.00,GBP,GB,3,2024-01-15 11:00:00\r\n"
    b'ORD-00000004,C5,cancelled,"7.25",EUR,DE,1,2024-01-15 11:30:00\r\n'
)


class OrdersOnSpark(LakeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.spark = spark_session()

    def run_script(self, stage):
        logs = io.StringIO()
        with redirect_stdout(logs):
            manifest = run_job(stage, self.lake.args(stage))
        with open(self.lake.manifest_path(stage)) as handle:
            written = json.load(handle)
        self.assertEqual(written, manifest)
        self.assertEqual(manifest_problems(written), [])
        return written, [json.loads(line) for line in logs.getvalue().splitlines()]

    def parquet(self, zone):
        folder = self.lake.path(f"{zone}/orders/year=2024/month=01/day=15")
        self.assertTrue(any(n.endswith(".parquet") for n in os.listdir(folder)), f"no Parquet in {folder}")
        return self.spark.read.parquet("file://" + folder)

    def test_bronze_silver_gold_of_the_orders_dataset(self):
        # Prepare: a JSON-lines file (name with a space) and a gzipped CSV with its own header order and case
        jsonl = self.lake.land("orders batch 1.jsonl", JSONL)
        csv = self.lake.land("feed.csv.gz", CSV_GZ)

        # Act: bronze
        bronze, _ = self.run_script("bronze")
        # Assess: every landed row, declared columns as text, lineage columns
        self.assertEqual((bronze["recordsIn"], bronze["recordsOut"], bronze["recordsQuarantined"]), (6, 6, 0))
        self.assertEqual(bronze["jobRunId"], "jr_0123456789")
        frame = self.parquet("bronze")
        self.assertEqual(
            [(f.name, f.dataType.simpleString()) for f in frame.schema.fields],
            [(c, "string") for c in ("order_id", "customer_id", "status", "amount", "currency", "country", "items", "updated_at")]
            + [("_ingested_at", "timestamp"), ("_source_file", "string")],
        )
        sources = {r["order_id"]: r["_source_file"] for r in frame.collect()}
        self.assertEqual(sources["ORD-00000002"], csv)
        self.assertEqual(sources["X-1"], jsonl, "the object's real URI (space decoded)")
        self.assertEqual({r["amount"] for r in frame.collect()}, {"10.50", "10.5", "-5", "1", "5.00", "7.25"})

        # Act: silver
        silver, logs = self.run_script("silver")
        # Assess
        self.assertEqual((silver["recordsIn"], silver["recordsOut"], silver["recordsQuarantined"]), (6, 3, 2))
        self.assertEqual(silver["quarantineLocation"], self.lake.args("silver")["quarantine_location"])
        self.assertIn({"duplicatesSuperseded": 1}, [{"duplicatesSuperseded": l.get("duplicatesSuperseded")} for l in logs])
        clean = {r["order_id"]: r for r in self.parquet("silver").collect()}
        self.assertEqual(sorted(clean), ["ORD-00000001", "ORD-00000002", "ORD-00000004"])
        self.assertEqual(clean["ORD-00000001"]["status"], "shipped")
        self.assertEqual(str(clean["ORD-00000002"]["amount"]), "5.00")
        self.assertEqual(
            dict((f.name, f.dataType.simpleString()) for f in self.parquet("silver").schema.fields),
            {"order_id": "string", "customer_id": "string", "status": "string", "amount": "decimal(12,2)",
             "currency": "string", "country": "string", "items": "int", "updated_at": "timestamp",
             "_ingested_at": "timestamp", "_source_file": "string"},
        )
        rejected = {r["order_id"]: r["_quarantine_reasons"] for r in self.parquet("quarantine").collect()}
        self.assertEqual(rejected, {"ORD-00000003": "amount_range", "X-1": "items_type,order_id_pattern,currency_accepted_values"})

        # Act: gold
        gold, _ = self.run_script("gold")
        # Assess
        self.assertEqual((gold["recordsIn"], gold["recordsOut"]), (3, 2))
        rows = sorted((r["country"], r["currency"], r["orders"], r["items"], str(r["revenue"])) for r in self.parquet("gold").collect())
        self.assertEqual(rows, [("DE", "EUR", 1, 2, "10.50"), ("GB", "GBP", 1, 3, "5.00")])
        self.assertEqual(gold["outputPartitions"][0]["values"], list(PARTITION))

    def test_gzipped_files_named_in_upper_case_read_as_their_lower_case_twins(self):
        # Prepare: a CSV with a byte order mark, CRLF, header case, a quoted value over two lines and a
        # doubled quote; a pretty-printed .json document. Landed under lower-case names, then upper-case.
        csv_text = (
            "\ufeffORDER_ID,customer_id,status,amount,currency,country,items,updated_at\r\n"
            'ORD-00000007,C7,"paid\r\nlate","7.00",EUR,DE,1,2024-01-15 10:00:00\r\n'
            'ORD-00000008,"C""8",paid,8.00,EUR,DE,2,2024-01-15 11:00:00\r\n'
        ).encode()
        document = json.dumps([{"order_id": "ORD-00000009", "customer_id": "C9", "amount": "9.00"}], indent=2).encode()

        def bronze_rows(names):
            for name, content in zip(names, (csv_text, document)):
                self.lake.land(name, gzip.compress(content))
            manifest, _ = self.run_script("bronze")
            rows = sorted(
                (tuple(r[c] for c in r.asDict() if c != "_ingested_at"), ) for r in self.parquet("bronze").collect()
            )
            return manifest, rows

        lower_manifest, lower = bronze_rows(["feed.csv.gz", "pretty.json.gz"])
        for name in os.listdir(self.lake.path(f"landing/shop/orders/{PARTITION_PATH}")):
            os.remove(self.lake.path(f"landing/shop/orders/{PARTITION_PATH}/{name}"))
        # Act
        upper_manifest, upper = bronze_rows(["FEED.CSV.GZ", "Pretty.Json.Gz"])
        # Assess: the same records, each naming its landed file; the copies are gone
        self.assertEqual(upper_manifest["recordsIn"], 3)
        self.assertEqual(lower_manifest["recordsIn"], 3)
        rename = lambda row: tuple(v.replace("feed.csv.gz", "FEED.CSV.GZ").replace("pretty.json.gz", "Pretty.Json.Gz") if isinstance(v, str) else v for v in row[0])
        self.assertEqual(upper, sorted((rename(r),) for r in lower))
        statuses = {r[0][0]: r[0][2] for r in upper}
        self.assertEqual(statuses["ORD-00000007"], "paid\r\nlate")
        self.assertIn(self.lake.uri + f"landing/shop/orders/{PARTITION_PATH}/FEED.CSV.GZ", {r[0][-1] for r in upper})
        self.assertEqual(os.listdir(self.lake.path("_system/tmp/medallion-gz-copies")), [])

    def test_a_re_run_replaces_the_partition_and_a_clean_run_empties_quarantine(self):
        # Prepare: a first run with one bad row, then the producer's fixed file replaces it
        self.lake.land("a.jsonl", JSONL)
        self.run_script("bronze")
        self.run_script("silver")
        os.remove(self.lake.path("landing/shop/orders/year=2024/month=01/day=15/a.jsonl"))
        self.lake.land("b.jsonl", JSONL.splitlines(keepends=True)[1])
        # Act
        self.run_script("bronze")
        silver, _ = self.run_script("silver")
        # Assess
        self.assertEqual((silver["recordsIn"], silver["recordsOut"], silver["recordsQuarantined"]), (1, 1, 0))
        self.assertEqual(self.parquet("bronze").count(), 1)
        self.assertEqual(self.parquet("quarantine").count(), 0)

    def test_a_corrupt_json_line_fails_bronze_naming_the_file_and_writes_nothing(self):
        # Prepare
        bad = self.lake.land("bad.jsonl", b'{"order_id": "ORD-00000001"}\n{"order_id": \n')
        # Act / Assess
        with redirect_stdout(io.StringIO()), self.assertRaisesRegex(Exception, "could not be parsed.*" + bad):
            run_job("bronze", self.lake.args("bronze"))
        self.assertFalse(os.path.exists(self.lake.manifest_path("bronze")))
        self.assertFalse(os.path.exists(self.lake.path("bronze/orders")))
