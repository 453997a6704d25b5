import gzip
import io
import logging
import os
import shutil
import tempfile
import unittest

from medallion_glue.errors import StorageError
from medallion_glue.locations import Location, escape_hadoop_glob, is_within, lake_root, parse_location
from medallion_glue.errors import JobArgumentError
from medallion_glue.storage import LocalStore, S3Store, Stores


class FakeS3:
    """The slice of the boto3 S3 client the store uses, with 2-object pages."""

    def __init__(self, keys, fail=None):
        self.keys = sorted(keys)
        self.calls = []
        self.puts = {}
        self.fail = fail

    def list_objects_v2(self, **request):
        self.calls.append(("list", request))
        if self.fail:
            raise self.fail
        below = [k for k in self.keys if k.startswith(request["Prefix"])]
        direct = [k for k in below if "/" not in k[len(request["Prefix"]):]]
        folders = sorted({request["Prefix"] + k[len(request["Prefix"]):].split("/")[0] + "/" for k in below if k not in direct})
        start = int(request.get("ContinuationToken", "0"))
        page = direct[start:start + 2]
        more = start + 2 < len(direct)
        out = {"Contents": [{"Key": k, "Size": 5, "ETag": f'"etag-{k}"'} for k in page], "IsTruncated": more}
        if start == 0:
            out["CommonPrefixes"] = [{"Prefix": f} for f in folders]
        if more:
            out["NextContinuationToken"] = str(start + 2)
        return out

    def get_object(self, **request):
        self.calls.append(("get", request))
        return {"Body": io.BytesIO(b"order_id,amount\n")}

    def put_object(self, **request):
        self.calls.append(("put", request))
        self.puts[request["Key"]] = request["Body"]


class S3StoreTest(unittest.TestCase):
    def test_lists_only_the_partition_folder_across_pages(self):
        # Prepare
        client = FakeS3(["p/", "p/a.jsonl", "p/b.jsonl", "p/c.csv", "p/sub/x.jsonl", "q/other.jsonl"])
        # Act
        files = S3Store(client).list_files(Location("s3", "lake", "p/"))
        # Assess
        self.assertEqual([f.location.key for f in files], ["p/a.jsonl", "p/b.jsonl", "p/c.csv", "p/sub/"])
        self.assertEqual([f.etag for f in files], ['"etag-p/a.jsonl"', '"etag-p/b.jsonl"', '"etag-p/c.csv"', None])
        self.assertEqual(sum(1 for c in client.calls if c[0] == "list"), 2)
        self.assertTrue(all(c[1]["Delimiter"] == "/" for c in client.calls))

    def test_reads_a_prefix_with_a_range_and_writes_json(self):
        client = FakeS3([])
        store = S3Store(client)
        store.read_bytes(Location("s3", "lake", "p/a.csv"), 1024)
        store.write_text(Location("s3", "lake", "_manifests/m.json"), '{"a": 1}')
        self.assertEqual(client.calls[0][1]["Range"], "bytes=0-1023")
        self.assertEqual(client.calls[1][1]["ContentType"], "application/json")
        self.assertEqual(client.puts["_manifests/m.json"], b'{"a": 1}')

    def test_sdk_failures_become_storage_errors_naming_the_uri(self):
        store = S3Store(FakeS3([], fail=RuntimeError("AccessDenied")))
        with self.assertRaisesRegex(StorageError, "cannot list s3://lake/p/: AccessDenied"):
            store.list_files(Location("s3", "lake", "p/"))

    def test_the_s3_client_is_created_once_and_only_for_s3(self):
        created = []
        stores = Stores(lambda: created.append(1) or FakeS3(["p/a.jsonl"]))
        stores.list_files(Location("s3", "lake", "p/"))
        stores.list_files(Location("s3", "lake", "p/"))
        self.assertEqual(len(created), 1)


class S3StoreOnMoto(unittest.TestCase):
    """Copy and delete through a real boto3 client against moto's S3 server on a loopback port: the
    copy is S3's own (server-side) copy, across buckets, byte for byte, without the source's tags."""

    @classmethod
    def setUpClass(cls):
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        cls.client = boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for bucket in ("lake", "artifacts"):
            cls.client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_copies_an_object_to_another_bucket_and_deletes_the_copy(self):
        # Prepare: a tagged landed object
        body = gzip.compress(b"id,amount\r\n1,2\r\n")
        key = "landing/shop/orders/year=2024/month=01/day=15/FEED.CSV.GZ"
        self.client.put_object(Bucket="lake", Key=key, Body=body, Tagging="source=windows")
        store = S3Store(self.client)
        copy = Location("s3", "artifacts", "tmp/medallion-gz-copies/jr_1/0.csv.gz")
        # Act
        store.copy(Location("s3", "lake", key), copy)
        # Assess: the same bytes under the new key, no tags; the landed object untouched
        self.assertEqual(self.client.get_object(Bucket="artifacts", Key=copy.key)["Body"].read(), body)
        self.assertEqual(self.client.get_object_tagging(Bucket="artifacts", Key=copy.key)["TagSet"], [])
        self.assertEqual(self.client.get_object(Bucket="lake", Key=key)["Body"].read(), body)
        # Act
        store.delete(copy)
        # Assess
        self.assertEqual(self.client.list_objects_v2(Bucket="artifacts", Prefix="tmp/").get("KeyCount"), 0)
        self.assertEqual(self.client.list_objects_v2(Bucket="lake").get("KeyCount"), 1)

    def test_a_failed_copy_names_both_objects(self):
        store = S3Store(self.client)
        with self.assertRaisesRegex(StorageError, "cannot copy s3://lake/missing.CSV.GZ to s3://artifacts/tmp/0.csv.gz"):
            store.copy(Location("s3", "lake", "missing.CSV.GZ"), Location("s3", "artifacts", "tmp/0.csv.gz"))


class LocalStoreTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="medallion store ")
        self.addCleanup(shutil.rmtree, self.root, True)

    def test_writes_atomically_and_reads_percent_encoded_file_uris(self):
        # Node's pathToFileURL encodes the space in this folder name as %20.
        uri = "file://" + self.root.replace(" ", "%20") + "/_manifests/orders/silver/run.json"
        location = parse_location(uri, "manifest_location")
        LocalStore().write_text(location, "{}\n")
        self.assertEqual(LocalStore().read_bytes(location), b"{}\n")
        self.assertEqual(os.listdir(os.path.join(self.root, "_manifests", "orders", "silver")), ["run.json"])

    def test_lists_files_and_marks_folders(self):
        os.makedirs(os.path.join(self.root, "p", "nested"))
        with open(os.path.join(self.root, "p", "a.jsonl"), "w") as handle:
            handle.write("{}\n")
        folder = parse_location("file://" + self.root.replace(" ", "%20") + "/p/", "source_location")
        self.assertEqual([(f.name, f.size) for f in LocalStore().list_files(folder)], [("a.jsonl", 3), ("", 0)])
        self.assertEqual(LocalStore().list_files(folder)[1].location.key[-7:], "nested/")
        self.assertEqual(LocalStore().list_files(folder.child("missing/")), [])

    def test_copies_a_file_and_deletes_the_copy_and_its_emptied_folder(self):
        source = parse_location("file://" + self.root.replace(" ", "%20") + "/landing/FEED.CSV.GZ", "x")
        os.makedirs(os.path.join(self.root, "landing"))
        with open(os.path.join(self.root, "landing", "FEED.CSV.GZ"), "wb") as handle:
            handle.write(b"\x1f\x8b bytes")
        copy = parse_location("file://" + self.root.replace(" ", "%20") + "/tmp/medallion-gz-copies/jr_1/0.csv.gz", "x")
        LocalStore().copy(source, copy)
        self.assertEqual(LocalStore().read_bytes(copy), b"\x1f\x8b bytes")
        LocalStore().delete(copy)
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp", "medallion-gz-copies")), [])
        self.assertEqual(LocalStore().read_bytes(source), b"\x1f\x8b bytes", "the landed file is left as it was")


class Locations(unittest.TestCase):
    def test_lake_root_is_what_precedes_the_zone(self):
        target = parse_location("s3://b/team/silver/orders/year=2024/", "target_location")
        self.assertEqual(lake_root(target, "silver", "orders", "year=2024").uri, "s3://b/team/")
        with self.assertRaisesRegex(JobArgumentError, "does not end with the layout's 'silver/orders/year=2024/'"):
            lake_root(parse_location("s3://b/xsilver/orders/year=2023/", "target_location"), "silver", "orders", "year=2024")

    def test_is_within_compares_whole_segments(self):
        outer = parse_location("s3://b/landing/orders/", "x")
        self.assertTrue(is_within(parse_location("s3://b/landing/orders/a/", "x"), outer))
        self.assertFalse(is_within(parse_location("s3://b/landing/orders2/", "x"), outer))
        self.assertFalse(is_within(parse_location("s3://c/landing/orders/", "x"), outer))

    def test_glob_characters_are_escaped_for_spark(self):
        self.assertEqual(escape_hadoop_glob("s3://b/p/orders[1]{a}*?.csv"), "s3://b/p/orders\\[1\\]\\{a\\}\\*\\?.csv")
        self.assertEqual(escape_hadoop_glob("s3://b/p/plain name.csv"), "s3://b/p/plain name.csv")


if __name__ == "__main__":
    unittest.main()
