import unittest

from medallion_glue.cdc import GLUE_CATALOG, MERGE_ATTEMPTS, iceberg_table, is_commit_conflict, merge_backoff_seconds


class IcebergTable(unittest.TestCase):
    def test_on_glue_the_jobs_catalog_is_used_as_configured(self):
        # Act
        table = iceberg_table("org.apache.iceberg.spark.SparkCatalog", "s3://lake/", "shop_lake_prod", "customers_silver")
        # Assess: nothing to configure, the stack's --conf did
        self.assertEqual(table.identifier, f"{GLUE_CATALOG}.shop_lake_prod.customers_silver")
        self.assertEqual(table.conf, ())
        # The stack declares the table (stack/catalog.ts): a run never creates it on AWS.
        self.assertFalse(table.creates)

    def test_locally_a_hadoop_catalog_in_the_lake_one_name_per_lake(self):
        # Act
        a = iceberg_table(None, "file:///tmp/lake-a", "crm", "customers_silver")
        again = iceberg_table(None, "file:///tmp/lake-a/", "crm", "customers_silver")
        b = iceberg_table(None, "file:///tmp/lake-b/", "crm", "customers_silver")
        # Assess
        self.assertEqual(a, again)
        self.assertTrue(a.creates)
        self.assertNotEqual(a.catalog, b.catalog)
        self.assertTrue(a.identifier.startswith("medallion_") and a.identifier.endswith(".crm.customers_silver"))
        self.assertEqual(dict(a.conf), {
            f"spark.sql.catalog.{a.catalog}": "org.apache.iceberg.spark.SparkCatalog",
            f"spark.sql.catalog.{a.catalog}.type": "hadoop",
            f"spark.sql.catalog.{a.catalog}.warehouse": "file:///tmp/lake-a/iceberg/",
        })


class MergeConflicts(unittest.TestCase):
    def test_only_a_commit_overtaken_by_another_is_run_again(self):
        # Arrange: the texts Py4J gives for Iceberg's exceptions (as Spark 3.5 with Iceberg 1.10 prints them)
        overtaken = Exception("An error occurred while calling o103.sql.\n: org.apache.iceberg.exceptions.ValidationException: "
                              "Found conflicting files that can contain records matching true: [s3://lake/x.parquet]")
        retries_spent = Exception(": org.apache.iceberg.exceptions.CommitFailedException: Cannot commit glue_catalog.crm.c "
                                  "because base metadata location is not same as the current Glue location")
        bad_sql = Exception("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `seq` cannot be resolved")
        schema = Exception("org.apache.iceberg.exceptions.ValidationException: Cannot find field 'x' in struct")
        # Act / Assess
        self.assertEqual([is_commit_conflict(e) for e in (overtaken, retries_spent, bad_sql, schema)], [True, True, False, False])

    def test_backoff_is_jittered_exponential_and_capped(self):
        self.assertEqual([merge_backoff_seconds(a, rand=lambda: 1.0) for a in range(1, MERGE_ATTEMPTS + 1)],
                         [1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0])
        self.assertEqual(merge_backoff_seconds(3, rand=lambda: 0.5), 2.0)
