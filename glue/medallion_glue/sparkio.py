"""The Spark engine behind the stage flows (stages.py): the only module that imports pyspark.
It runs on Glue 5.0 (Spark 3.5) and cannot run on a machine without Spark: it is kept small and
holds no decisions, which all live in the pure modules."""

import time
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from .cdc import CDC_DELETED, CDC_TARGET, MERGE_ATTEMPTS, iceberg_table, is_commit_conflict, merge_backoff_seconds
from .contract import INGESTED_AT, MAX_CSV_RECORD_BYTES, SOURCE_FILE
from .errors import LandingDataError, StageContractError
from .landing import is_json_document, json_document_records, json_key_spellings
from .locations import escape_hadoop_glob
from .stages import CORRUPT_RECORD, log

# input_file_name() is the URL-encoded URI (a space is %20); decode it to the object's real URI.
# A literal '+' is protected first because url_decode uses form decoding ('+' would become a space).
SOURCE_FILE_EXPR = "url_decode(replace(input_file_name(), '+', '%2B'))"


# JSON records are parsed with Spark's own JSON parser (Jackson), as the JSON reader would, into a map
# of every key to its value as text (a string's text; a number, boolean, array or object as JSON text).
JSON_OPTIONS = "map('allowSingleQuotes', 'false', 'mode', 'PERMISSIVE')"
RECORD = "_record"
KEYS = "_keys"
VALUES = "_values"

# Per record, over its raw text (`_record`):
# - blank: only JSON whitespace (a blank line), not a record;
# - keys: the object's keys in order, duplicates kept (NULL when it is not a JSON object);
# - values: its map of key -> text, parsed only when no key repeats (Spark's map refuses duplicates;
#   a repeated key is reported by the column matching instead);
# - corrupt: not exactly one JSON object (invalid JSON, an array or a scalar, two values on one line,
#   text after the value), not valid UTF-8 (VALID_UTF8: Spark would read U+FFFD for broken bytes), a
#   map Jackson cannot build (single quotes). "Exactly one value": Jackson stops after the first value
#   of a text, so the record is also parsed as an array's only element ([r] has 1 element, [r,0] has 2).
JSON_RECORD_EXPRESSIONS = {
    "blank": f"trim(BOTH ' \t\r\n' FROM {RECORD}) = ''",
    KEYS: f"json_object_keys({RECORD})",
    VALUES: (
        f"CASE WHEN size(json_object_keys({RECORD})) = size(array_distinct(json_object_keys({RECORD}))) "
        f"THEN from_json({RECORD}, 'map<string,string>', {JSON_OPTIONS}) END"
    ),
    "single": f"coalesce(json_array_length(concat('[', {RECORD}, ']')) = 1 AND json_array_length(concat('[', {RECORD}, ',0]')) = 2, false)",
}
# Checked on the text as read, before Python sees it (a UDF's input has U+FFFD already).
VALID_UTF8 = "CAST(encode(value, 'UTF-8') AS STRING) = value"
JSON_CORRUPT = f"NOT single OR NOT utf8 OR {KEYS} IS NULL OR ({VALUES} IS NULL AND size({KEYS}) = size(array_distinct({KEYS})))"


def source_file_column(landed: Mapping[str, str]) -> Column:
    """The landed file a row comes from: the URI Spark read (SOURCE_FILE_EXPR), or, for a copy read in
    place of a landed file (`landed`: copy URI -> landed file URI; landing.gz_copies puts each copy in a
    run-unique folder under a name of its own), the landed file's URI."""
    read = F.expr(SOURCE_FILE_EXPR)
    cases = None
    for copy, uri in sorted(landed.items()):
        # Matched by the copy's folder and name: the decoded URI Spark reports may spell the rest of the
        # path differently (percent-encoding) from the URI it was given.
        test = read.endswith("/" + "/".join(copy.split("/")[-2:]))
        cases = F.when(test, F.lit(uri)) if cases is None else cases.when(test, F.lit(uri))
    return read if cases is None else cases.otherwise(read)


def _strings(names: Sequence[str]) -> StructType:
    fields = [StructField(n, StringType(), True) for n in names]
    return StructType(fields + [StructField(CORRUPT_RECORD, StringType(), True)])


class SparkEngine:
    def __init__(self, spark: SparkSession):
        self.spark = spark
        self._json_drift: Dict[str, List[str]] = {}

    @classmethod
    def create(cls) -> "SparkEngine":
        spark = SparkSession.builder.getOrCreate()
        # DuckDB timestamps carry no zone: make Spark's session zone UTC so both worlds agree.
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        return cls(spark)

    def read_landing(self, json_uris, csv_groups, columns, ingested_at, landed, on_drift="halt") -> DataFrame:
        frames = []
        self._json_drift = {}
        if json_uris:
            frames.append(self._read_json(json_uris, columns, landed, on_drift))
        if csv_groups:
            self._require_utf8([u for _, _, uris in csv_groups for u in uris], landed)
        for header, line_sep, uris in csv_groups:
            # Files of one group share this exact header, already checked by name: read them by
            # position with every column as text (types are the silver stage's job).
            frame = (
                self.spark.read.schema(_strings(header))
                .option("header", "true")
                .option("enforceSchema", "true")
                .option("multiLine", "true")
                # The file's own line end: given, Spark keeps a quoted value's line breaks as landed
                # (detected, a CRLF inside quotes would become LF; CSVOptions.asParserSettings).
                .option("lineSep", line_sep)
                # RFC 4180 as the local runner reads it: a quote inside a quoted value is doubled;
                # a backslash is an ordinary character.
                .option("quote", '"')
                .option("escape", '"')
                .option("unescapedQuoteHandling", "RAISE_ERROR")
                # No value may be longer than a record may be (a bound on the parser's memory too).
                .option("maxCharsPerColumn", str(MAX_CSV_RECORD_BYTES))
                .option("mode", "PERMISSIVE")
                .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
                .csv([escape_hadoop_glob(u) for u in uris])
            )
            # A record longer than MAX_CSV_RECORD_BYTES is refused as the local runner refuses it: its
            # values and separators alone are longer (quotes are not counted: the parsed record no
            # longer has them).
            size = sum((F.coalesce(F.octet_length(F.col(c)), F.lit(0)) for c in header), F.lit(len(header) - 1))
            frame = frame.withColumn(
                CORRUPT_RECORD,
                F.coalesce(
                    F.col(CORRUPT_RECORD),
                    F.when(size > MAX_CSV_RECORD_BYTES, F.lit(f"a CSV record longer than {MAX_CSV_RECORD_BYTES} bytes")),
                ),
            )
            frames.append(self._with_declared(frame, header, columns, landed))
        if not frames:
            # Every landed file was empty (skipped): bronze is written with its columns and no rows.
            names = (*columns, CORRUPT_RECORD, SOURCE_FILE)
            frames.append(self.spark.createDataFrame([], StructType([StructField(n, StringType(), True) for n in names])))
        frame = frames[0]
        for other in frames[1:]:
            frame = frame.unionByName(other)
        # Bronze column order, as the local runner writes it: declared columns, _ingested_at, _source_file.
        frame = frame.select(
            *[F.col(c) for c in columns],
            F.lit(ingested_at).cast("timestamp").alias(INGESTED_AT),
            F.col(SOURCE_FILE),
            F.col(CORRUPT_RECORD),
        )
        # Cached: Spark refuses to query the corrupt-record column of a raw file scan on its own, and
        # the rows counted must be the rows written.
        return frame.cache()

    def json_drift(self) -> Dict[str, List[str]]:
        return dict(self._json_drift)

    def _read_json(self, uris: Sequence[str], columns: Sequence[str], landed: Mapping[str, str], on_drift: str) -> DataFrame:
        """JSON lines (`.jsonl`, `.ndjson`: one record per line; Hadoop drops a byte order mark at the
        start of a file) and JSON documents (`.json`: json_document_records), each record checked
        (JSON_RECORD_EXPRESSIONS) and its keys matched onto the declared columns by name, trimmed and
        case-insensitively (json_key_spellings: a file that names a column twice or an undeclared column
        fails the run naming it). A record without a key has no value for it."""
        records = []
        lines = [escape_hadoop_glob(u) for u in uris if not is_json_document(u)]
        documents = [escape_hadoop_glob(u) for u in uris if is_json_document(u)]
        if lines:
            frame = self.spark.read.text(lines, lineSep="\n")
            records.append(
                frame.select(F.col("value").alias(RECORD), source_file_column(landed).alias(SOURCE_FILE), F.expr(VALID_UTF8).alias("utf8"))
            )
        if documents:
            split = F.udf(json_document_records, ArrayType(StringType()))
            frame = self.spark.read.text(documents, wholetext=True)
            records.append(
                frame.select(
                    F.explode(split(F.col("value"))).alias(RECORD), source_file_column(landed).alias(SOURCE_FILE), F.expr(VALID_UTF8).alias("utf8")
                )
            )
        frame = records[0] if len(records) == 1 else records[0].unionByName(records[1])
        frame = frame.select(RECORD, SOURCE_FILE, "utf8", *[F.expr(e).alias(n) for n, e in JSON_RECORD_EXPRESSIONS.items()])
        # Not cached: the key lists are one pass over the files, the rows (cached by the caller) another.
        frame = frame.filter(~F.col("blank")).withColumn("corrupt", F.expr(JSON_CORRUPT))
        key_sets = [
            (r[SOURCE_FILE], list(r[KEYS]))
            for r in frame.filter(~F.col("corrupt")).select(SOURCE_FILE, KEYS).distinct().collect()
        ]
        spellings, self._json_drift = json_key_spellings(key_sets, columns, on_drift)

        def value(column: str):
            found = [F.try_element_at(F.col(VALUES), F.lit(k)) for k in spellings.get(column, [])]
            if not found:
                return F.lit(None).cast("string")
            return found[0] if len(found) == 1 else F.coalesce(*found)

        return frame.select(
            *[value(c).alias(c) for c in columns],
            F.when(F.col("corrupt"), F.col(RECORD)).alias(CORRUPT_RECORD),
            F.col(SOURCE_FILE),
        )

    def _require_utf8(self, uris: Sequence[str], landed: Mapping[str, str]) -> None:
        """Spark's CSV reader decodes broken UTF-8 as U+FFFD without a word; the local runner refuses
        the file. So the bytes are checked first (one pass over the files' lines)."""
        lines = self.spark.read.text([escape_hadoop_glob(u) for u in uris], lineSep="\n")
        bad = [r[0] for r in lines.filter(~F.expr(VALID_UTF8)).select(source_file_column(landed)).distinct().limit(10).collect()]
        if bad:
            raise LandingDataError(f"{len(bad)} file(s) are not valid UTF-8 (the landed text must be UTF-8): {', '.join(sorted(bad))}")

    @staticmethod
    def _with_declared(frame: DataFrame, present: Sequence[str], columns: Sequence[str], landed: Mapping[str, str]) -> DataFrame:
        selected = [F.col(c) if c in present else F.lit(None).cast("string").alias(c) for c in columns]
        return frame.select(*selected, F.col(CORRUPT_RECORD), source_file_column(landed).alias(SOURCE_FILE))

    def corrupt_records(self, frame: DataFrame) -> Tuple[int, List[str]]:
        bad = frame.filter(F.col(CORRUPT_RECORD).isNotNull())
        count = bad.count()
        if not count:
            return 0, []
        return count, [r[0] for r in bad.select(SOURCE_FILE).distinct().limit(10).collect()]

    def drop(self, frame: DataFrame, column: str) -> DataFrame:
        return frame.drop(column)

    def read_parquet(self, uri, view: str) -> DataFrame:
        """One folder URI, or a list of them read as one frame (a gold window's silver partitions)."""
        uris = [uri] if isinstance(uri, str) else list(uri)
        try:
            frame = self.spark.read.parquet(*[escape_hadoop_glob(u) for u in uris])
        except Exception as error:  # AnalysisException: PATH_NOT_FOUND, unreadable files...
            raise StageContractError(f"cannot read the {view} partition at {', '.join(uris)}: {error}") from error
        frame.createOrReplaceTempView(view)
        return frame

    def _iceberg(self, plan, lake_root_uri: str):
        configured = self.spark.conf.get("spark.sql.catalog.glue_catalog", None)
        table = iceberg_table(configured, lake_root_uri, plan.database, plan.tables["silver"])
        for key, value in table.conf:
            if self.spark.conf.get(key, None) != value:
                self.spark.conf.set(key, value)
        return table

    def merge_current(self, changes: DataFrame, plan, lake_root_uri: str, sleep=time.sleep) -> int:
        """MERGE the batch into the current state; a commit conflict with another writer runs it again
        (cdc.py: a merge is idempotent). Returns the attempts it took."""
        table = self._iceberg(plan, lake_root_uri)
        if not self._exists(table.identifier):  # not created yet (locally; on AWS the stack declares it)
            if not table.creates:
                raise StageContractError(
                    f"the Iceberg table {table.identifier} does not exist: the stack declares it (deploy the "
                    f"stack with this dataset; --catalog_database names the stage's database)"
                )
            try:
                self.spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table.catalog}.{table.database}")
                self.spark.createDataFrame([], changes.schema).writeTo(table.identifier).using("iceberg").create()
            except Exception as error:
                # Another run's merge may have created it in the meantime: then merge into it.
                if not self._exists(table.identifier):
                    raise StageContractError(
                        f"cannot create the Iceberg table {table.identifier} (is the Iceberg Spark runtime on the "
                        f"classpath? bash scripts/pyenv.sh fetches it; on Glue: --datalake-formats iceberg): {error}"
                    ) from error
        changes.createOrReplaceTempView("changes")
        statement = plan.merge_sql.replace(CDC_TARGET, table.identifier)
        for attempt in range(1, MERGE_ATTEMPTS + 1):
            try:
                self.spark.sql(statement)
                return attempt
            except Exception as error:
                if not is_commit_conflict(error) or attempt == MERGE_ATTEMPTS:
                    tried = f" (after {attempt} attempts, each overtaken by another commit)" if attempt > 1 else ""
                    raise StageContractError(f"sql.silver.merge into {table.identifier} failed{tried}: {error}") from error
                log("MERGE overtaken by another commit; running it again", level="WARN", table=table.identifier, attempt=attempt)
                sleep(merge_backoff_seconds(attempt))
                self.spark.sql(f"REFRESH TABLE {table.identifier}")
        raise AssertionError("unreachable")

    def _exists(self, identifier: str) -> bool:
        try:
            self.spark.table(identifier)
            return True
        except Exception:  # AnalysisException: no such table
            return False

    def read_current(self, plan, lake_root_uri: str, view: str) -> DataFrame:
        table = self._iceberg(plan, lake_root_uri)
        try:
            # The table as it is now: a session that loaded it before another run's commit (the local
            # Spark process serves many runs) would otherwise read Iceberg's cached, older snapshot.
            self.spark.sql(f"REFRESH TABLE {table.identifier}")
            frame = self.spark.table(table.identifier)
        except Exception as error:
            raise StageContractError(f"cannot read the current state {table.identifier}: run silver first ({error})") from error
        frame = frame.filter(~F.col(CDC_DELETED)).drop(CDC_DELETED).cache()
        frame.createOrReplaceTempView(view)
        return frame

    def with_empty_columns(self, frame: DataFrame, columns: Sequence[str], view: str) -> DataFrame:
        frame = frame.select("*", *[F.lit(None).cast("string").alias(c) for c in columns])
        frame.createOrReplaceTempView(view)
        return frame

    def sql(self, text: str, label: str, view: Optional[str] = None) -> DataFrame:
        try:
            frame = self.spark.sql(text)
        except Exception as error:  # ParseException / AnalysisException: the plan's SQL is wrong here
            raise StageContractError(f"{label} failed on Spark SQL: {error}") from error
        frame = frame.cache()
        if view:
            frame.createOrReplaceTempView(view)
        return frame

    def columns(self, frame: DataFrame) -> List[str]:
        return list(frame.columns)

    def count(self, frame: DataFrame, where: Optional[str] = None) -> int:
        return (frame.filter(where) if where else frame).count()

    def distinct_count(self, frame: DataFrame, columns: Sequence[str], where: Optional[str] = None) -> int:
        return (frame.filter(where) if where else frame).select(*columns).distinct().count()

    def write_parquet(self, frame: DataFrame, uri: str) -> None:
        # Overwrite exactly this partition's folder: a re-run replaces its own output and nothing else.
        frame.write.mode("overwrite").parquet(uri)
