import unittest

from medallion_glue.args import check_against_plan, parse_job_args
from medallion_glue.errors import JobArgumentError
from medallion_glue.plan import parse_plan

from .helpers import Lake, plan_bytes

LAKE = Lake.__new__(Lake)  # argument building only: no folder needed
LAKE.root = "/lake"
LAKE.uri = "file:///lake/"
LAKE.plan_path = "/artifacts/plans/orders.json"
PLAN = parse_plan(plan_bytes(), "orders.json")


def s3_args(stage="silver", **override):
    root = "s3://shop-lake-123/"
    source = {"bronze": "landing/shop/orders/", "silver": "bronze/orders/", "gold": "silver/orders/"}[stage]
    path = "year=2024/month=01/day=15"
    args = {
        "dataset": "orders",
        "stage": stage,
        "run_id": "orders-2024-01-15-abc",
        "partition_path": path,
        "partition_values": '["2024","01","15"]',
        "source_location": f"{root}{source}{path}/",
        "target_location": f"{root}{stage}/orders/{path}/",
        "quarantine_location": f"{root}quarantine/orders/{path}/",
        "manifest_location": f"{root}_manifests/orders/{stage}/orders-2024-01-15-abc.json",
        "dataset_plan": "s3://artifacts-123/glue/plans/orders.json",
        "catalog_database": "shop_lake_prod_eu",
        "JOB_RUN_ID": "jr_abc",
    }
    args.update(override)
    return args


class ParseJobArgs(unittest.TestCase):
    def test_reads_the_glue_arguments_of_an_s3_run(self):
        # Act
        args = parse_job_args(s3_args(), "silver")
        # Assess
        self.assertEqual(args.partition_values, ("2024", "01", "15"))
        self.assertEqual(args.target.bucket, "shop-lake-123")
        self.assertEqual(args.target.key, "silver/orders/year=2024/month=01/day=15/")
        self.assertEqual(args.job_run_id, "jr_abc")
        check_against_plan(args, PLAN)  # consistent: no error

    def test_every_stage_of_a_local_lake_is_consistent(self):
        for stage in ("bronze", "silver", "gold"):
            with self.subTest(stage=stage):
                args = parse_job_args(LAKE.args(stage), stage)
                check_against_plan(args, PLAN)
                self.assertEqual(args.source.scheme, "file")

    def test_a_missing_argument_is_named(self):
        resolved = s3_args()
        del resolved["quarantine_location"]
        with self.assertRaisesRegex(JobArgumentError, "--quarantine_location: missing"):
            parse_job_args(resolved, "silver")

    def test_the_glue_job_run_id_is_required(self):
        resolved = s3_args()
        del resolved["JOB_RUN_ID"]
        with self.assertRaisesRegex(JobArgumentError, "JOB_RUN_ID"):
            parse_job_args(resolved, "silver")

    def test_the_wrong_stage_for_the_script_is_refused(self):
        with self.assertRaisesRegex(JobArgumentError, "--stage: 'gold' was passed to the silver job"):
            parse_job_args(s3_args(stage="gold"), "silver")

    def test_malformed_values_name_the_argument(self):
        cases = {
            "partition_values": ("2024/01/15", "--partition_values: .* is not JSON"),
            "run_id": ("orders 2024", "--run_id: .* is not an execution name"),
            "target_location": ("https://bucket/x/", "--target_location: .* neither s3://"),
            "source_location": ("s3://bucket/landing/x", "--source_location: .* must be a folder"),
            "manifest_location": ("s3://bucket/_manifests/x.txt", "--manifest_location: .* must name a .json"),
            "quarantine_location": ("s3://bucket/a/../b/", "--quarantine_location: .* '..' path segment"),
            "dataset_plan": ("s3://artifacts/plans/", "--dataset_plan: .* not a folder"),
        }
        for name, (value, message) in cases.items():
            with self.subTest(name=name), self.assertRaisesRegex(JobArgumentError, message):
                parse_job_args(s3_args(**{name: value}), "silver")

    def test_partition_values_must_be_a_list_of_strings(self):
        for value in ('"2024"', "[]", "[2024, 1, 15]", '["2024", ""]'):
            with self.subTest(value=value), self.assertRaisesRegex(JobArgumentError, "JSON array of non-empty strings"):
                parse_job_args(s3_args(partition_values=value), "silver")

    def test_glue_temp_dir_is_read_as_a_folder(self):
        self.assertIsNone(parse_job_args(s3_args(), "silver").temp_dir)
        self.assertIsNone(parse_job_args(s3_args(TempDir=None), "silver").temp_dir, "getResolvedOptions' None")
        given = parse_job_args(s3_args(TempDir="s3://artifacts-123/tmp"), "silver").temp_dir
        self.assertEqual(given.uri, "s3://artifacts-123/tmp/")
        with self.assertRaisesRegex(JobArgumentError, "--TempDir: .*neither s3://"):
            parse_job_args(s3_args(TempDir="/tmp/x/"), "silver")


class CheckAgainstPlan(unittest.TestCase):
    def check(self, **override):
        check_against_plan(parse_job_args(s3_args(**override), "silver"), PLAN)

    def test_the_plan_must_be_for_the_dataset(self):
        with self.assertRaisesRegex(JobArgumentError, "--dataset: 'payments' but --dataset_plan .* is for 'orders'"):
            self.check(dataset="payments")

    def test_the_catalog_database_is_the_plans_as_declared_or_as_a_stage_deploys_it(self):
        self.check(catalog_database="shop_lake")
        self.check(catalog_database="shop_lake_dev")
        with self.assertRaisesRegex(JobArgumentError, "--catalog_database: 'other_lake_dev' is not the plan's database 'shop_lake'"):
            self.check(catalog_database="other_lake_dev")
        with self.assertRaisesRegex(JobArgumentError, "--catalog_database: 'shop_lakeside' is not"):
            self.check(catalog_database="shop_lakeside")

    def test_values_must_fit_the_declared_keys(self):
        with self.assertRaisesRegex(JobArgumentError, "2 value\\(s\\) for the 3 partition key"):
            self.check(partition_values='["2024","01"]')
        with self.assertRaisesRegex(JobArgumentError, "value '13' of key 'month' does not match"):
            self.check(partition_values='["2024","13","15"]', partition_path="year=2024/month=13/day=15")

    def test_the_path_must_agree_with_the_values(self):
        with self.assertRaisesRegex(JobArgumentError, "--partition_path: 'year=2024/month=01/day=16' disagrees"):
            self.check(partition_path="year=2024/month=01/day=16")

    def test_locations_must_follow_the_lake_layout(self):
        path = "year=2024/month=01/day=15"
        with self.assertRaisesRegex(JobArgumentError, "--target_location: .* does not end with the layout"):
            self.check(target_location=f"s3://shop-lake-123/silver/orders/{path}/extra/")
        with self.assertRaisesRegex(JobArgumentError, "--source_location: .* expected 's3://shop-lake-123/bronze/orders/"):
            self.check(source_location=f"s3://shop-lake-123/landing/shop/orders/{path}/")
        with self.assertRaisesRegex(JobArgumentError, "--quarantine_location: .* expected"):
            self.check(quarantine_location=f"s3://other-bucket/quarantine/orders/{path}/")
        with self.assertRaisesRegex(JobArgumentError, "--manifest_location: .* expected"):
            self.check(manifest_location="s3://shop-lake-123/_manifests/orders/silver/another-run.json")

    def test_a_lake_under_a_prefix_is_accepted(self):
        path = "year=2024/month=01/day=15"
        root = "s3://shared-bucket/teams/shop/"
        args = s3_args(
            source_location=f"{root}bronze/orders/{path}/",
            target_location=f"{root}silver/orders/{path}/",
            quarantine_location=f"{root}quarantine/orders/{path}/",
            manifest_location=f"{root}_manifests/orders/silver/orders-2024-01-15-abc.json",
        )
        check_against_plan(parse_job_args(args, "silver"), PLAN)

    def test_outputs_may_never_land_inside_the_landing_folder(self):
        # A dataset whose landing prefix sits where bronze writes would have bronze overwrite landing.
        plan = parse_plan(plan_bytes(lambda p: p["dataset"]["landing"].update(prefix="bronze/orders/")), "p.json")
        path = "year=2024/month=01/day=15"
        args = parse_job_args(
            s3_args(
                stage="bronze",
                source_location=f"s3://shop-lake-123/bronze/orders/{path}/",
                manifest_location="s3://shop-lake-123/_manifests/orders/bronze/orders-2024-01-15-abc.json",
            ),
            "bronze",
        )
        with self.assertRaisesRegex(JobArgumentError, "--target_location: .* overlaps the source"):
            check_against_plan(args, plan)

    def test_the_temp_dir_may_not_lie_inside_a_partition_the_job_reads_or_writes(self):
        path = "year=2024/month=01/day=15"
        check_against_plan(parse_job_args(s3_args(stage="bronze", TempDir="s3://shop-lake-123/"), "bronze"), PLAN)
        for inside in (f"landing/shop/orders/{path}/tmp/", f"bronze/orders/{path}/", f"quarantine/orders/{path}/t/"):
            with self.subTest(inside=inside), self.assertRaisesRegex(JobArgumentError, "--TempDir: .* lies inside --"):
                check_against_plan(parse_job_args(s3_args(stage="bronze", TempDir=f"s3://shop-lake-123/{inside}"), "bronze"), PLAN)


if __name__ == "__main__":
    unittest.main()
