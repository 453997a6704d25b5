import unittest
from datetime import datetime, timezone

from medallion_glue.args import parse_job_args
from medallion_glue.errors import ManifestError
from medallion_glue.manifest import build_manifest, iso_now, manifest_problems, output_partition

from .test_args import s3_args


def valid(**override):
    manifest = {
        "version": 1,
        "dataset": "orders",
        "stage": "silver",
        "runId": "orders-2024-01-15-abc",
        "jobRunId": "jr_abc",
        "startedAt": "2024-01-15T10:00:00.000Z",
        "completedAt": "2024-01-15T10:05:00.000Z",
        "recordsIn": 10,
        "recordsOut": 7,
        "recordsQuarantined": 2,
        "outputPartitions": [{"table": "orders_silver", "values": ["2024", "01", "15"], "location": "s3://b/silver/"}],
        "quarantineLocation": "s3://b/quarantine/",
    }
    manifest.update(override)
    return manifest


class BuildManifest(unittest.TestCase):
    def test_builds_the_contract_from_the_job_arguments(self):
        # Prepare
        args = parse_job_args(s3_args(), "silver")
        # Act
        manifest = build_manifest(
            args,
            started_at="2024-01-15T10:00:00.000Z",
            completed_at="2024-01-15T10:05:00.000Z",
            records_in=10,
            records_out=7,
            records_quarantined=2,
            output_partitions=[output_partition("orders_silver", args.partition_values, args.target.uri)],
            quarantine_location=args.quarantine.uri,
        )
        # Assess
        self.assertEqual(manifest["runId"], "orders-2024-01-15-abc")
        self.assertEqual(manifest["jobRunId"], "jr_abc")
        self.assertEqual(manifest["outputPartitions"][0]["values"], ["2024", "01", "15"])
        self.assertEqual(manifest["outputPartitions"][0]["location"], "s3://shop-lake-123/silver/orders/year=2024/month=01/day=15/")

    def test_a_manifest_inventing_rows_is_refused(self):
        args = parse_job_args(s3_args(), "silver")
        with self.assertRaisesRegex(ManifestError, "recordsOut: recordsOut \\+ recordsQuarantined must not exceed recordsIn"):
            build_manifest(args, started_at="2024-01-15T10:00:00.000Z", completed_at="2024-01-15T10:00:01.000Z",
                           records_in=1, records_out=1, records_quarantined=1, output_partitions=[], quarantine_location=None)

    def test_iso_now_matches_javascript_to_iso_string(self):
        self.assertEqual(iso_now(datetime(2024, 1, 15, 10, 21, 9, 123456, tzinfo=timezone.utc)), "2024-01-15T10:21:09.123Z")


class ManifestProblems(unittest.TestCase):
    def test_a_valid_manifest_has_no_problems(self):
        self.assertEqual(manifest_problems(valid()), [])
        self.assertEqual(manifest_problems(valid(stage="gold", recordsIn=3, recordsOut=40, recordsQuarantined=0)), [])

    def test_each_broken_field_is_reported(self):
        cases = {
            "version": (valid(version=2), "version: must be 1"),
            "stage": (valid(stage="platinum"), "stage: must be one of"),
            "datetime": (valid(startedAt="2024-01-15 10:00:00"), "startedAt: must be an ISO-8601"),
            "offset": (valid(completedAt="2024-01-15T10:00:00+01:00"), "completedAt: must be"),
            "calendar": (valid(startedAt="2023-02-29T10:00:00Z"), "startedAt: must be"),
            "count": (valid(recordsIn=-1), "recordsIn: must be an integer >= 0"),
            "bool count": (valid(recordsQuarantined=True), "recordsQuarantined: must be an integer"),
            "float count": (valid(recordsOut=1.5), "recordsOut: must be an integer"),
            "unknown": (valid(rows=1), "unknown keys \\['rows'\\]"),
            "values": (valid(outputPartitions=[{"table": "t", "values": [], "location": "l"}]), "outputPartitions\\[0\\].values"),
            "empty location": (valid(quarantineLocation=""), "quarantineLocation: must be"),
            "empty id": (valid(jobRunId=""), "jobRunId: must be a non-empty string"),
        }
        for name, (manifest, message) in cases.items():
            with self.subTest(name=name):
                self.assertRegex("; ".join(manifest_problems(manifest)), message)

    def test_a_missing_key_is_reported(self):
        manifest = valid()
        del manifest["quarantineLocation"]
        self.assertEqual(manifest_problems(manifest), ["quarantineLocation: missing"])


if __name__ == "__main__":
    unittest.main()
