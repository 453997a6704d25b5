import gzip
import unittest

from medallion_glue.errors import LandingDataError
from medallion_glue.landing import (
    HEADER_PROBE_BYTES,
    classify,
    csv_layout,
    file_format,
    first_line,
    group_by_header,
    gz_copies,
    header_line,
    is_json_document,
    json_document_records,
    json_key_spellings,
)
from medallion_glue.locations import Location
from medallion_glue.storage import StoredFile

FOLDER = "s3://lake/landing/shop/orders/year=2024/month=01/day=15/"
DECLARED = ("order_id", "customer_id", "amount")


def stored(name: str, size: int = 10) -> StoredFile:
    return StoredFile(Location("s3", "lake", "landing/shop/orders/year=2024/month=01/day=15/" + name), size)


class Classify(unittest.TestCase):
    def test_formats_follow_the_landing_extensions(self):
        self.assertEqual(file_format("orders batch 001.JSONL", ["jsonl", "csv"]), "jsonl")
        self.assertEqual(file_format("feed.ndjson.gz", ["jsonl", "csv"]), "jsonl")
        self.assertEqual(file_format("feed.csv.gz", ["jsonl", "csv"]), "csv")
        self.assertIsNone(file_format("feed.csv", ["jsonl"]))
        self.assertIsNone(file_format("feed.parquet", ["jsonl", "csv"]))

    def test_readable_files_are_kept_and_empty_ones_skipped(self):
        # Act
        readable, empty = classify([stored("a.jsonl"), stored("b.csv"), stored("c.json", size=0)], ["jsonl", "csv"], FOLDER)
        # Assess
        self.assertEqual([(f.file.name, f.format) for f in readable], [("a.jsonl", "jsonl"), ("b.csv", "csv")])
        self.assertEqual([f.name for f in empty], ["c.json"])

    def test_a_stray_object_fails_the_run_naming_it(self):
        # Bronze must not silently ignore data it was asked to ingest.
        with self.assertRaises(LandingDataError) as caught:
            classify([stored("a.jsonl"), stored("notes.txt"), stored("nested/")], ["jsonl", "csv"], FOLDER)
        message = str(caught.exception)
        self.assertIn("2 unreadable object(s)", message)
        self.assertIn(FOLDER + "notes.txt: not one of the dataset's formats (.jsonl", message)
        self.assertIn(FOLDER + "nested/: a folder below the partition", message)

    def test_a_data_file_named_like_a_hidden_file_fails_the_run_naming_it(self):
        # Spark skips _x and .x files silently when listing: the run must not lose their rows.
        with self.assertRaises(LandingDataError) as caught:
            classify([stored("a.jsonl"), stored("_b.jsonl"), stored(".c.csv")], ["jsonl", "csv"], FOLDER)
        message = str(caught.exception)
        self.assertIn(FOLDER + "_b.jsonl: a name starting with '_' or '.', which Spark treats as hidden", message)
        self.assertIn(FOLDER + ".c.csv: a name starting with", message)

    def test_an_empty_partition_is_refused(self):
        with self.assertRaisesRegex(LandingDataError, "no landing files in the run's partition"):
            classify([], ["jsonl"], FOLDER)
        # A partition holding only empty files is not an error: nothing to read, the files are reported.
        self.assertEqual(classify([stored("a.jsonl", size=0)], ["jsonl"], FOLDER), ([], [stored("a.jsonl", size=0)]))


class CsvHeaders(unittest.TestCase):
    def test_the_first_line_is_the_header_even_gzipped_or_with_a_bom(self):
        text = "\ufefforder_id,customer_id\r\nORD-1,C1\n".encode("utf-8")
        self.assertEqual(header_line(text, False, "a.csv"), "order_id,customer_id")
        # A gzip prefix cut mid-stream still yields its first line.
        compressed = gzip.compress(("order_id,amount\n" + "ORD-1,2\n" * 50000).encode())
        self.assertEqual(header_line(compressed[:200], True, "a.csv.gz"), "order_id,amount")

    def test_the_header_line_tells_how_records_end(self):
        self.assertEqual(first_line("\ufeffa,b\r\n1,2\n".encode(), False, "a.csv"), ("a,b", "\r\n"))
        self.assertEqual(first_line(gzip.compress(b"a,b\n1,2\r\n"), True, "a.csv.gz"), ("a,b", "\n"))
        self.assertEqual(first_line(b"a,b", False, "a.csv"), ("a,b", "\n"), "a header without a line end")

    def test_unreadable_headers_name_the_file(self):
        with self.assertRaisesRegex(LandingDataError, "a.csv.gz: not a valid gzip file"):
            header_line(b"order_id,amount\n", True, "a.csv.gz")
        with self.assertRaisesRegex(LandingDataError, "b.csv: no end of line in the first"):
            header_line(b"x" * HEADER_PROBE_BYTES, False, "b.csv")
        with self.assertRaisesRegex(LandingDataError, "c.csv: the CSV header is not UTF-8"):
            header_line(b"\xff\xfe\n", False, "c.csv")

    def test_columns_are_matched_by_name_not_position(self):
        # Act
        layout = csv_layout(' Amount ,"order_id",\u00a0CUSTOMER_ID', DECLARED, "a.csv")
        # Assess
        self.assertEqual(layout.header, ("amount", "order_id", "customer_id"))

    def test_headers_that_cannot_be_mapped_fail(self):
        cases = {
            "": "empty CSV header line",
            "order_id,,amount,customer_id": "unnamed column at position\\(s\\) 2",
            "order_id,ORDER_ID,amount,customer_id": 'column order_id is named 2 times \\("order_id", "ORDER_ID"\\)',
            "order_id,amount": "missing declared column\\(s\\) customer_id",
            "order_id,amount,customer_id,extra": 'undeclared column\\(s\\) "extra"',
            "ORD-1,C1,12.50": "names none of the declared columns .* \\(is the header missing",
        }
        for line, message in cases.items():
            with self.subTest(line=line), self.assertRaisesRegex(LandingDataError, "a.csv: (CSV header )?.*" + message):
                csv_layout(line, DECLARED, "a.csv")

    def test_under_alert_drift_is_reported_and_undeclared_columns_get_positional_names(self):
        # Act
        layout = csv_layout("order_id,Extra,amount,notes", DECLARED, "a.csv", "\n", "alert")
        # Assess: customer_id is missing (read empty); Extra and notes are read under names never loaded
        self.assertEqual(layout.header, ("order_id", "_undeclared_1", "amount", "_undeclared_3"))
        self.assertEqual(layout.undeclared, ("Extra", "notes"))
        self.assertEqual(layout.missing, ("customer_id",))
        with self.assertRaisesRegex(LandingDataError, "named 2 times"):
            csv_layout("order_id,ORDER_ID,amount", DECLARED, "a.csv", "\n", "alert")

    def test_files_sharing_a_header_and_line_ends_are_read_together(self):
        layouts = {
            "s3://l/b.csv": csv_layout("order_id,amount,customer_id", DECLARED, "b"),
            "s3://l/a.csv": csv_layout("order_id,amount,customer_id", DECLARED, "a"),
            "s3://l/c.csv": csv_layout("amount,order_id,customer_id", DECLARED, "c"),
            "s3://l/d.csv": csv_layout("order_id,amount,customer_id", DECLARED, "d", "\r\n"),
        }
        groups = group_by_header(layouts)
        self.assertEqual([(g.header, g.line_sep, uris) for g, uris in groups], [
            (("order_id", "amount", "customer_id"), "\n", ["s3://l/a.csv", "s3://l/b.csv"]),
            (("amount", "order_id", "customer_id"), "\n", ["s3://l/c.csv"]),
            (("order_id", "amount", "customer_id"), "\r\n", ["s3://l/d.csv"]),
        ])


if __name__ == "__main__":
    unittest.main()


class GzipSuffix(unittest.TestCase):
    TEMP = Location("s3", "artifacts", "tmp/")

    def test_a_gzipped_file_without_the_lower_case_suffix_is_read_through_a_copy_named_gz(self):
        # Prepare: Spark would read the compressed bytes of the upper- and mixed-case names as text
        files, _ = classify(
            [stored("a.csv.gz"), stored("B.CSV.GZ"), stored("c.Jsonl.Gz"), stored("D.JSON.gZ"), stored("e.JSONL")],
            ["jsonl", "csv"],
            FOLDER,
        )
        # Act
        copies = gz_copies(files, self.TEMP, "jr_01")
        # Assess: one copy each, in the run's folder of the temp dir, named by position and lower-case extension
        self.assertEqual(
            {uri: copy.uri for uri, copy in copies.items()},
            {
                FOLDER + "B.CSV.GZ": "s3://artifacts/tmp/medallion-gz-copies/jr_01/0.csv.gz",
                FOLDER + "c.Jsonl.Gz": "s3://artifacts/tmp/medallion-gz-copies/jr_01/1.jsonl.gz",
                FOLDER + "D.JSON.gZ": "s3://artifacts/tmp/medallion-gz-copies/jr_01/2.json.gz",
            },
        )
        self.assertTrue(is_json_document(copies[FOLDER + "D.JSON.gZ"].uri), "a .json document stays a document")
        self.assertEqual(gz_copies([f for f in files if f.file.name in ("a.csv.gz", "e.JSONL")], None, "jr_01"), {})

    def test_without_a_temp_dir_such_a_file_fails_the_run_naming_it(self):
        files, _ = classify([stored("a.csv.gz"), stored("B.CSV.GZ")], ["jsonl", "csv"], FOLDER)
        with self.assertRaisesRegex(LandingDataError, "B.CSV.GZ: a gzipped file whose name does not end in the lower-case '.gz'.*no --TempDir"):
            gz_copies(files, None, "jr_01")


class JsonDocuments(unittest.TestCase):
    def test_only_json_files_are_documents(self):
        self.assertTrue(is_json_document("s3://b/x/Export.JSON"))
        self.assertTrue(is_json_document("s3://b/x/export.json.gz"))
        self.assertFalse(is_json_document("s3://b/x/export.jsonl"))
        self.assertFalse(is_json_document("s3://b/x/export.ndjson.gz"))

    def test_records_are_the_raw_text_of_each_value(self):
        # Prepare: numbers keep their spelling (the engine converts them as for JSON lines)
        pretty = '{\n  "id": "a",\n  "d": 1.5e3\n}\n{"id": "b"}\n'
        # Act / Assess
        self.assertEqual(json_document_records(pretty), ['{\n  "id": "a",\n  "d": 1.5e3\n}', '{"id": "b"}'])
        self.assertEqual(json_document_records('\ufeff[ {"id": "a"},\n {"id": [1, 2]} ]'), ['{"id": "a"}', '{"id": [1, 2]}'])
        self.assertEqual(json_document_records("[]\n  "), [])
        self.assertEqual(json_document_records('[[{"id": "a"}], "{}"]'), ['[{"id": "a"}]', '"{}"'])

    def test_what_does_not_parse_is_one_record_that_is_no_object(self):
        self.assertEqual(json_document_records('{"id": "a"} x'), ['{"id": "a"}', "x"])
        self.assertEqual(json_document_records('[{"id": "a"}'), ['[{"id": "a"}'])
        self.assertEqual(json_document_records('[{"id": "a"},]'), ['[{"id": "a"},]'])
        self.assertEqual(json_document_records('{"id": "a"'), ['{"id": "a"'])


class JsonKeys(unittest.TestCase):
    def test_keys_match_declared_columns_trimmed_and_in_any_case(self):
        # Act
        spellings, drift = json_key_spellings(
            [("s3://b/1.jsonl", ["ORDER_ID", " amount "]), ("s3://b/2.jsonl", ["order_id"]), ("s3://b/2.jsonl", [])],
            DECLARED,
        )
        # Assess: a column no record names has no spelling (its values are missing), and is no drift
        self.assertEqual(spellings, {"order_id": ["ORDER_ID", "order_id"], "amount": [" amount "]})
        self.assertEqual(drift, {})

    def test_under_alert_undeclared_keys_are_drift_per_file_and_not_loaded(self):
        # Act
        spellings, drift = json_key_spellings(
            [("s3://b/1.jsonl", ["order_id", "Zeta", "extra"]), ("s3://b/1.jsonl", ["order_id", "Extra"]), ("s3://b/2.jsonl", ["order_id"])],
            DECLARED,
            "alert",
        )
        # Assess
        self.assertEqual(spellings, {"order_id": ["order_id"]})
        self.assertEqual(drift, {"s3://b/1.jsonl": ["Extra", "Zeta", "extra"]})

    def test_under_alert_a_key_named_twice_still_fails(self):
        with self.assertRaisesRegex(LandingDataError, "named 2 times"):
            json_key_spellings([("s3://b/1.jsonl", ["order_id", "Order_Id"])], DECLARED, "alert")

    def test_a_file_naming_a_column_twice_or_an_undeclared_one_fails_naming_file_and_column(self):
        with self.assertRaises(LandingDataError) as caught:
            json_key_spellings(
                [("s3://b/1.jsonl", ["order_id", "Order_Id"]), ("s3://b/2.jsonl", ["order_id", "extra"]), ("s3://b/3.jsonl", ["order_id"])],
                DECLARED,
            )
        message = str(caught.exception)
        self.assertIn('s3://b/1.jsonl: its columns do not match the dataset\'s: column order_id is named 2 times ("order_id", "Order_Id")', message)
        self.assertIn('s3://b/2.jsonl: its columns do not match the dataset\'s: undeclared column(s) "extra"', message)
        self.assertNotIn("3.jsonl", message)
