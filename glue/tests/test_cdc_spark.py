"""CDC merges on real Spark with the Iceberg runtime (as Glue 5.1's --datalake-formats iceberg): runs of
one CDC dataset that merge at once (a backfill: one Glue job run per partition) all land their changes."""

import threading
import time
from types import SimpleNamespace

from medallion_glue.cdc import CDC_DELETED
from medallion_glue.sparkio import SparkEngine

from .helpers import LakeTestCase
from .spark import spark_session

# The shape shared/domain/cdc.ts cdcMergeSql gives: a change replaces a key's row only when newer.
PLAN = SimpleNamespace(
    database="crm",
    tables={"silver": "customers_silver"},
    merge_sql="\n".join([
        "MERGE INTO {{target}} t",
        "USING changes s",
        "ON t.customer_id = s.customer_id",
        f"WHEN MATCHED AND s.seq > t.seq THEN UPDATE SET customer_id = s.customer_id, seq = s.seq, name = s.name, {CDC_DELETED} = s.{CDC_DELETED}",
        f"WHEN NOT MATCHED THEN INSERT (customer_id, seq, name, {CDC_DELETED}) VALUES (s.customer_id, s.seq, s.name, s.{CDC_DELETED})",
    ]),
)
KEYS = 200


class ConcurrentMerges(LakeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.spark = spark_session()

    def changes(self, session, seq: int, extra_key: int):
        # Every known key updated at `seq`, and one key of its own inserted.
        return session.range(KEYS).union(session.createDataFrame([(extra_key,)], "id long")).selectExpr(
            "id AS customer_id", f"CAST({seq} AS BIGINT) AS seq", f"'v{seq}' AS name", f"false AS {CDC_DELETED}"
        )

    def test_runs_merging_at_once_all_land_and_the_newest_change_of_each_key_wins(self):
        # Prepare: the state after a first run; three jobs, each its own Spark session (catalog, views)
        first = SparkEngine(self.spark.newSession())
        first.merge_current(self.changes(first.spark, 0, KEYS), PLAN, self.lake.uri)
        engines = [SparkEngine(self.spark.newSession()) for _ in range(3)]
        batches = [self.changes(e.spark, seq=i + 1, extra_key=KEYS + 1 + i) for i, e in enumerate(engines)]
        attempts, errors = {}, []

        def merge(i):
            try:
                attempts[i] = engines[i].merge_current(batches[i], PLAN, self.lake.uri, sleep=lambda s: time.sleep(s / 4))
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)

        # Act
        threads = [threading.Thread(target=merge, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Assess: no run failed; every key holds its newest change, every run's own key is there
        self.assertEqual(errors, [])
        state = first.read_current(PLAN, self.lake.uri, view="state").groupBy("seq").count()
        self.assertEqual({r["seq"]: r["count"] for r in state.collect()}, {3: KEYS + 1, 2: 1, 1: 1, 0: 1})
        print(f"merge attempts per run: {sorted(attempts.values())}")
