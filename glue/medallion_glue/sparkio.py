"""The Spark engine behind the stage flows (stages.py): the only module that imports pyspark.
It runs on Glue 5.0 (Spark 3.5) and cannot run on a machine without Spark: it is kept small and
holds no decisions, which all live in the pure modules."""

from typing import List, Optional, Sequence, Tuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from .contract import INGESTED_AT, SOURCE_FILE
from .errors import StageContractError
from .locations import escape_hadoop_glob
from .stages import CORRUPT_RECORD

# input_file_name() is the URL-encoded URI (a space is %20); decode it to the object's real URI.
# A literal '+' is protected first because url_decode uses form decoding ('+' would become a space).
SOURCE_FILE_EXPR = "url_decode(replace(input_file_name(), '+', '%2B'))"


def _strings(names: Sequence[str]) -> StructType:
    fields = [StructField(n, StringType(), True) for n in names]
    return StructType(fields + [StructField(CORRUPT_RECORD, StringType(), True)])


class SparkEngine:
    def __init__(self, spark: SparkSession):
        self.spark = spark

    @classmethod
    def create(cls) -> "SparkEngine":
        spark = SparkSession.builder.getOrCreate()
        # DuckDB timestamps carry no zone: make Spark's session zone UTC so both worlds agree.
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        return cls(spark)

    def read_landing(self, json_uris, csv_groups, columns, ingested_at) -> DataFrame:
        frames = []
        if json_uris:
            frames.append(
                self._with_declared(
                    self.spark.read.schema(_strings(columns))
                    .option("mode", "PERMISSIVE")
                    # JSON as the local runner reads it: double-quoted strings only.
                    .option("allowSingleQuotes", "false")
                    .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
                    .json([escape_hadoop_glob(u) for u in json_uris]),
                    columns,
                    columns,
                )
            )
        for header, uris in csv_groups:
            # Files of one group share this exact header, already checked by name: read them by
            # position with every column as text (types are the silver stage's job).
            frames.append(
                self._with_declared(
                    self.spark.read.schema(_strings(header))
                    .option("header", "true")
                    .option("enforceSchema", "true")
                    .option("multiLine", "true")
                    # RFC 4180 as the local runner reads it: a quote inside a quoted value is doubled;
                    # a backslash is an ordinary character.
                    .option("quote", '"')
                    .option("escape", '"')
                    .option("unescapedQuoteHandling", "RAISE_ERROR")
                    .option("mode", "PERMISSIVE")
                    .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
                    .csv([escape_hadoop_glob(u) for u in uris]),
                    header,
                    columns,
                )
            )
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

    @staticmethod
    def _with_declared(frame: DataFrame, present: Sequence[str], columns: Sequence[str]) -> DataFrame:
        selected = [F.col(c) if c in present else F.lit(None).cast("string").alias(c) for c in columns]
        return frame.select(*selected, F.col(CORRUPT_RECORD), F.expr(SOURCE_FILE_EXPR).alias(SOURCE_FILE))

    def corrupt_records(self, frame: DataFrame) -> Tuple[int, List[str]]:
        bad = frame.filter(F.col(CORRUPT_RECORD).isNotNull())
        count = bad.count()
        if not count:
            return 0, []
        return count, [r[0] for r in bad.select(SOURCE_FILE).distinct().limit(10).collect()]

    def drop(self, frame: DataFrame, column: str) -> DataFrame:
        return frame.drop(column)

    def read_parquet(self, uri: str, view: str) -> DataFrame:
        try:
            frame = self.spark.read.parquet(escape_hadoop_glob(uri))
        except Exception as error:  # AnalysisException: PATH_NOT_FOUND, unreadable files...
            raise StageContractError(f"cannot read the {view} partition at {uri}: {error}") from error
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
