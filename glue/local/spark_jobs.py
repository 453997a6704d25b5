"""Runs the real Glue job scripts (glue/medallion_<stage>.py, the files that are deployed) on local
Spark, many runs in one process so Spark starts once.

    python glue/local/spark_jobs.py     requests on stdin, one JSON object per line:
        {"id": "...", "stage": "silver", "args": {"dataset": "...", ..., "JOB_RUN_ID": "jr_..."}}
    answers on stdout, one JSON line per request, in order:
        {"id": "...", "ok": true, "manifest": {...}}
        {"id": "...", "ok": false, "error": "StageContractError", "message": "..."}

The job's own logs (JSON lines) and Spark's go to stderr. The arguments become an argv exactly as
Glue builds it (`--name value` pairs after the script path), parsed by the scripts' own
getResolvedOptions (the local awsglue shim next to this file)."""

import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GLUE = HERE.parent
for path in (str(HERE), str(GLUE)):
    if path not in sys.path:
        sys.path.insert(0, path)

# Settings for a small local Spark: fast start, little memory, output identical to a cluster's.
LOCAL_CONF = {
    "spark.master": os.environ.get("MEDALLION_SPARK_MASTER", "local[2]"),
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": os.environ.get("MEDALLION_SPARK_MEMORY", "1g"),
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.warehouse.dir": os.path.join(os.environ.get("TMPDIR", "/tmp"), "medallion-spark-warehouse"),
    "spark.driver.extraJavaOptions": "-Dderby.system.home=" + os.path.join(os.environ.get("TMPDIR", "/tmp"), "medallion-derby"),
    # Iceberg, as Glue 5.1's --datalake-formats iceberg gives it: the runtime (fetched by
    # scripts/pyenv.sh into .venv/jars) and its SQL extensions (MERGE INTO).
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
}

# The Iceberg Spark runtime of AWS Glue 5.1 (Iceberg 1.10.0), pinned in scripts/pyenv.sh.
ICEBERG_JAR = Path(sys.executable).resolve().parent.parent / "jars" / "iceberg-spark-runtime-3.5_2.12-1.10.0.jar"
if not ICEBERG_JAR.is_file():
    ICEBERG_JAR = Path(sys.prefix) / "jars" / "iceberg-spark-runtime-3.5_2.12-1.10.0.jar"
if ICEBERG_JAR.is_file():
    LOCAL_CONF["spark.jars"] = str(ICEBERG_JAR)
else:
    # Without it Spark cannot even parse with the extensions configured: CDC datasets need it.
    del LOCAL_CONF["spark.sql.extensions"]
    print(f"medallion: {ICEBERG_JAR} is missing (bash scripts/pyenv.sh fetches it): CDC datasets cannot run", file=sys.stderr)

# Python UDFs (the bronze job's .json reader) run in workers of this same Python (the project's .venv),
# importing medallion_glue from glue/ as Glue's workers import it from --extra-py-files.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GLUE), os.environ.get("PYTHONPATH", "")) if p)

# Spark binds to loopback only (without this it picks the host's first interface address).
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

_session = None


def spark_session():
    """The process's SparkSession (created on first use)."""
    global _session
    if _session is None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("medallion-local")
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
    return _session


_scripts = {}


def script(stage: str):
    """The deployed job script of a stage, loaded as a module (its `main(argv)` runs the job)."""
    if stage not in _scripts:
        path = GLUE / f"medallion_{stage}.py"
        spec = importlib.util.spec_from_file_location(f"medallion_{stage}_job", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _scripts[stage] = module
    return _scripts[stage]


def glue_argv(stage: str, args: dict) -> list:
    """sys.argv as Glue passes it: the script, then `--name value` pairs."""
    argv = [str(GLUE / f"medallion_{stage}.py")]
    for name, value in args.items():
        argv += [name if name.startswith("--") else f"--{name}", str(value)]
    return argv


def run_job(stage: str, args: dict) -> dict:
    """Runs one stage's script in this process; returns the manifest it wrote."""
    spark = spark_session()
    try:
        return script(stage).main(glue_argv(stage, args))
    finally:
        spark.catalog.clearCache()  # the stage caches its frames; the next run starts clean


STATEMENTS = (
    # (label in errors, where it sits in the plan, the view its result is registered as)
    ("sql.silver.validate", ("silver", "validate"), "validated"),
    ("sql.silver.clean", ("silver", "clean"), "silver"),
    ("sql.silver.quarantine", ("silver", "quarantine"), None),
    ("sql.gold.select", ("gold", "select"), None),
)


def check_plan(plan: dict) -> dict:
    """Spark's parser and analyser over every statement of a compiled plan, run over an empty bronze
    frame shaped as the bronze job writes it (declared columns as text, _ingested_at, _source_file),
    in the order and with the views the jobs use. Returns, per statement, its columns or its error."""
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    from medallion_glue.contract import INGESTED_AT, SOURCE_FILE

    spark = spark_session().newSession()  # its own temp views
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    columns = [c["name"] for c in plan["dataset"]["columns"]]
    schema = StructType(
        [StructField(c, StringType(), True) for c in columns]
        + [StructField(INGESTED_AT, TimestampType(), True), StructField(SOURCE_FILE, StringType(), True)]
    )
    spark.createDataFrame([], schema).createOrReplaceTempView("bronze")
    out = {}
    for label, (section, field), view in STATEMENTS:
        try:
            frame = spark.sql(plan["sql"][section][field])  # parsed and analysed here (eagerly)
            out[label] = {"ok": True, "columns": [{"name": f.name, "type": f.dataType.simpleString()} for f in frame.schema.fields]}
            if view:
                frame.createOrReplaceTempView(view)
        except Exception as error:  # ParseException, AnalysisException
            first = str(error).strip().split("\n")[0]
            out[label] = {"ok": False, "error": type(error).__name__, "message": first}
    return out


def export_table(request: dict) -> None:
    """Writes a CDC dataset's Iceberg table of a local lake (tombstones included) as Parquet to
    request["to"], for a test to read it as it reads the other engine's state."""
    from medallion_glue.cdc import iceberg_table

    spark = spark_session()
    table = iceberg_table(None, request["lake"], request["database"], request["table"])
    for key, value in table.conf:
        spark.conf.set(key, value)
    spark.table(table.identifier).write.mode("overwrite").parquet(request["to"])


def serve(stdin=sys.stdin) -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    sys.stdout = sys.stderr  # the jobs' JSON logs must not mix with the answers
    spark_session()
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if "check" in request:
                answer = {"id": request.get("id"), "ok": True, "statements": check_plan(request["check"])}
            elif "export" in request:
                export_table(request["export"])
                answer = {"id": request.get("id"), "ok": True}
            else:
                manifest = run_job(request["stage"], request["args"])
                answer = {"id": request.get("id"), "ok": True, "manifest": manifest}
        except BaseException as error:  # noqa: BLE001  SystemExit from argparse too: every failure is an answer
            message = str(error) or repr(error)
            answer = {"id": request.get("id"), "ok": False, "error": type(error).__name__, "message": message}
        answers.write(json.dumps(answer, default=str) + "\n")


if __name__ == "__main__":
    serve()
