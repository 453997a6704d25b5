"""The local awsglue shim parses real Glue argument lists as awsglue.utils.getResolvedOptions does
(awslabs/aws-glue-libs): Glue's ids come back unasked, other Glue options are ignored, asked-for
options are required, reserved names cannot be asked for."""

import unittest

from .spark import LOCAL  # noqa: F401  (puts glue/local on sys.path)

from awsglue.utils import GlueArgumentError, getResolvedOptions  # noqa: E402
from medallion_glue.contract import JOB_ARGS  # noqa: E402

# sys.argv of a Glue 5 job run started by Step Functions with the job's arguments: Glue's own
# parameters first, DefaultArguments and the run's Arguments after, in no fixed order.
GLUE_ARGV = [
    "/tmp/medallion_silver.py",
    "--JOB_ID", "j_5b7c3a0e9f1d2c4b6a8e0f2d4c6b8a0e2f4d6c8b0a2e4f6d8c0b2a4e6f8d0c2b",
    "--enable-glue-datacatalog", "true",
    "--JOB_RUN_ID", "jr_7a2e91c04b1f3d5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f2a4c6e8b0d2f",
    "--job-bookmark-option", "job-bookmark-disable",
    "--TempDir", "s3://aws-glue-assets-123456789012-eu-west-1/temporary/",
    "--extra-py-files", "s3://artifacts/glue/medallion_glue.zip",
    "--enable-metrics", "true",
    "--JOB_NAME", "medallion-silver",
    "--dataset", "orders",
    "--stage", "silver",
    "--run_id", "orders-2024-01-15-3f9c2a7d1b0e4c55",
    "--partition_path", "year=2024/month=01/day=15",
    "--partition_values", '["2024","01","15"]',
    "--source_location", "s3://lake/bronze/orders/year=2024/month=01/day=15/",
    "--target_location", "s3://lake/silver/orders/year=2024/month=01/day=15/",
    "--quarantine_location", "s3://lake/quarantine/orders/year=2024/month=01/day=15/",
    "--manifest_location", "s3://lake/_manifests/orders/silver/orders-2024-01-15-3f9c2a7d1b0e4c55.json",
    "--dataset_plan", "s3://artifacts/plans/orders.json",
    "--catalog_database", "shop_lake_dev",
    "--enable-auto-scaling", "true",
]


class GetResolvedOptions(unittest.TestCase):
    def test_a_real_glue_argument_list(self):
        # Act
        resolved = getResolvedOptions(GLUE_ARGV, list(JOB_ARGS))
        # Assess: the job's arguments, Glue's ids unasked, the bookmark option, TempDir twice
        self.assertEqual(resolved["partition_values"], '["2024","01","15"]')
        self.assertEqual(resolved["JOB_RUN_ID"], GLUE_ARGV[6])
        self.assertEqual(resolved["JOB_ID"], GLUE_ARGV[2])
        self.assertEqual(resolved["job_bookmark_option"], "job-bookmark-disable")
        self.assertEqual(resolved["RedshiftTempDir"], resolved["TempDir"])
        self.assertNotIn("JOB_NAME", resolved, "JOB_NAME is returned only when asked for")
        self.assertNotIn("enable_auto_scaling", resolved)

    def test_without_glue_ids_the_ids_are_none_and_bookmarks_default_to_disabled(self):
        argv = [GLUE_ARGV[0]] + GLUE_ARGV[GLUE_ARGV.index("--dataset"):]
        resolved = getResolvedOptions(argv, list(JOB_ARGS))
        self.assertIsNone(resolved["JOB_RUN_ID"])
        self.assertEqual(resolved["job_bookmark_option"], "job-bookmark-disable")

    def test_a_missing_option_is_named(self):
        argv = [a for a in GLUE_ARGV if a not in ("--dataset_plan", "s3://artifacts/plans/orders.json")]
        with self.assertRaisesRegex(GlueArgumentError, "required: --dataset_plan"):
            getResolvedOptions(argv, list(JOB_ARGS))

    def test_options_are_never_abbreviated(self):
        argv = [GLUE_ARGV[0], "--data", "orders"]
        with self.assertRaisesRegex(GlueArgumentError, "required: --dataset"):
            getResolvedOptions(argv, ["dataset"])

    def test_asking_for_a_reserved_option_is_an_error(self):
        with self.assertRaises(RuntimeError):
            getResolvedOptions(GLUE_ARGV, ["job-bookmark-option"])
        # As in Glue, asking for JOB_RUN_ID collides with the option Glue adds itself.
        with self.assertRaises(Exception):
            getResolvedOptions(GLUE_ARGV, ["JOB_RUN_ID"])

    def test_a_value_outside_the_choices_is_refused(self):
        argv = GLUE_ARGV[:7] + ["--job-bookmark-option", "job-bookmark-on"] + GLUE_ARGV[9:]
        with self.assertRaisesRegex(GlueArgumentError, "job-bookmark-option"):
            getResolvedOptions(argv, list(JOB_ARGS))


if __name__ == "__main__":
    unittest.main()
