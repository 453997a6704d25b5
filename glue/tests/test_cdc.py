import unittest

from medallion_glue.cdc import GLUE_CATALOG, iceberg_table


class IcebergTable(unittest.TestCase):
    def test_on_glue_the_jobs_catalog_is_used_as_configured(self):
        # Act
        table = iceberg_table("org.apache.iceberg.spark.SparkCatalog", "s3://lake/", "shop_lake_prod", "customers_silver")
        # Assess: nothing to configure, the stack's --conf did
        self.assertEqual(table.identifier, f"{GLUE_CATALOG}.shop_lake_prod.customers_silver")
        self.assertEqual(table.conf, ())

    def test_locally_a_hadoop_catalog_in_the_lake_one_name_per_lake(self):
        # Act
        a = iceberg_table(None, "file:///tmp/lake-a", "crm", "customers_silver")
        again = iceberg_table(None, "file:///tmp/lake-a/", "crm", "customers_silver")
        b = iceberg_table(None, "file:///tmp/lake-b/", "crm", "customers_silver")
        # Assess
        self.assertEqual(a, again)
        self.assertNotEqual(a.catalog, b.catalog)
        self.assertTrue(a.identifier.startswith("medallion_") and a.identifier.endswith(".crm.customers_silver"))
        self.assertEqual(dict(a.conf), {
            f"spark.sql.catalog.{a.catalog}": "org.apache.iceberg.spark.SparkCatalog",
            f"spark.sql.catalog.{a.catalog}.type": "hadoop",
            f"spark.sql.catalog.{a.catalog}.warehouse": "file:///tmp/lake-a/iceberg/",
        })
