import unittest

from medallion_glue.errors import DatasetPlanError
from medallion_glue.plan import parse_plan

from .helpers import plan_bytes


class ParsePlan(unittest.TestCase):
    def test_reads_the_compiled_orders_plan(self):
        # Act
        plan = parse_plan(plan_bytes(), "s3://artifacts/plans/orders.json")
        # Assess
        self.assertEqual(plan.dataset, "orders")
        self.assertEqual([k.name for k in plan.partition_keys], ["year", "month", "day"])
        self.assertEqual(plan.column_names[:2], ("order_id", "customer_id"))
        self.assertEqual(plan.dedup_key, ("order_id",))
        self.assertEqual(plan.tables["quarantine"], "orders_quarantine")
        self.assertIn("FROM bronze", plan.validate_sql)
        self.assertIn("FROM silver", plan.gold_sql)

    def test_errors_name_the_file_and_the_field(self):
        def drop(path):
            def mutate(p):
                node = p
                for part in path[:-1]:
                    node = node[part]
                del node[path[-1]]
            return mutate

        cases = [
            (drop(["sql", "silver", "quarantine"]), "missing field 'sql.silver.quarantine'"),
            (drop(["dataset", "catalog", "tables", "gold"]), "missing field 'dataset.catalog.tables.gold'"),
            (lambda p: p.update(version=2), "field 'version' is 2, this job reads plan version 1"),
            (lambda p: p["sql"]["gold"].update(select="  \n"), "field 'sql.gold.select' is empty"),
            (lambda p: p["dataset"]["columns"][1].update(name=7), "field 'dataset.columns\\[1\\].name' must be a string, got int"),
            (lambda p: p["dataset"]["partitionKeys"][0].update(pattern="(["), "field 'dataset.partitionKeys\\[0\\].pattern' .* not a valid regular expression"),
            (lambda p: p["dataset"]["landing"].update(formats=["parquet"]), "field 'dataset.landing.formats\\[0\\]' is 'parquet'"),
            (lambda p: p["dataset"]["dedup"].update(key=["nope"]), "field 'dataset.dedup.key' must name declared columns"),
            (lambda p: p["dataset"].update(columns=[]), "field 'dataset.columns' is empty"),
            (lambda p: p["dataset"].update(partitionKeys="year"), "field 'dataset.partitionKeys' must be a list"),
        ]
        for mutate, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(DatasetPlanError, "^DatasetPlanError: s3://a/p.json: " + message):
                parse_plan(plan_bytes(mutate), "s3://a/p.json")

    def test_a_plan_that_is_not_json_is_refused(self):
        with self.assertRaisesRegex(DatasetPlanError, "p.json: not valid UTF-8 JSON"):
            parse_plan(b"version: 1\n", "p.json")
        with self.assertRaisesRegex(DatasetPlanError, "expected a JSON object"):
            parse_plan(b"[1]", "p.json")

    def test_a_dataset_without_dedup_has_no_dedup_key(self):
        plan = parse_plan(plan_bytes(lambda p: p["dataset"].pop("dedup")), "p.json")
        self.assertIsNone(plan.dedup_key)


if __name__ == "__main__":
    unittest.main()
