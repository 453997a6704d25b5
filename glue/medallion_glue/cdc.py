"""CDC datasets (`mode: cdc`): silver is the source table's current state, an Apache Iceberg table
merged into by every run (twin of shared/domain/cdc.ts, whose SQL the plan carries). Pure: which
Iceberg catalog and table a run writes; the Spark work is in sparkio.py.

- On AWS Glue (5.1, `--datalake-formats iceberg`) the job's --conf defines the catalog `glue_catalog`
  (the Glue Data Catalog, org.apache.iceberg.aws.glue.GlueCatalog, warehouse under the lake's silver
  zone); the table is `glue_catalog.<database>.<silver table>` (the database as deployed: the job's
  --catalog_database), declared by the stack (stack/catalog.ts), never created by a run.
- Locally (no such catalog configured) a Hadoop catalog in the lake itself: warehouse `<lake>/iceberg/`,
  registered on the session under a name of its own per lake (LOCAL_CATALOG_PREFIX + a hash of the
  warehouse URI), so one Spark process can serve several lakes."""

import hashlib
import random
from dataclasses import dataclass

GLUE_CATALOG = "glue_catalog"
LOCAL_CATALOG_PREFIX = "medallion_"
# The column that marks a tombstone (shared/domain/cdc.ts CDC_DELETED) and the merge's target token.
CDC_DELETED = "_cdc_deleted"
CDC_TARGET = "{{target}}"
# The folder of the lake holding the local Hadoop catalog's tables.
LOCAL_WAREHOUSE = "iceberg/"


@dataclass(frozen=True)
class IcebergTable:
    catalog: str
    database: str
    table: str
    # Spark conf to set before the catalog's first use (empty when the job's --conf defines it).
    conf: tuple
    # Whether a run creates the table when it does not exist (locally); on AWS the stack declares it.
    creates: bool = False

    @property
    def identifier(self) -> str:
        return f"{self.catalog}.{self.database}.{self.table}"


def local_catalog_name(warehouse_uri: str) -> str:
    return LOCAL_CATALOG_PREFIX + hashlib.sha256(warehouse_uri.encode("utf-8")).hexdigest()[:12]


def iceberg_table(configured_catalog, lake_root_uri: str, database: str, table: str) -> IcebergTable:
    """The run's silver table. `configured_catalog`: the value of spark.sql.catalog.glue_catalog when
    the job's --conf sets it (AWS), else None (local: a Hadoop catalog in the lake)."""
    if configured_catalog:
        return IcebergTable(GLUE_CATALOG, database, table, ())
    root = lake_root_uri if lake_root_uri.endswith("/") else lake_root_uri + "/"
    warehouse = root + LOCAL_WAREHOUSE
    name = local_catalog_name(warehouse)
    prefix = f"spark.sql.catalog.{name}"
    conf = (
        (prefix, "org.apache.iceberg.spark.SparkCatalog"),
        (f"{prefix}.type", "hadoop"),
        (f"{prefix}.warehouse", warehouse),
    )
    return IcebergTable(name, database, table, conf, creates=True)


# Iceberg commits optimistically. A MERGE that another writer's commit overtook between planning and
# committing fails with ValidationException ("Found conflicting files ...") or, once Iceberg's own commit
# retries are spent, CommitFailedException. Two partitions of one CDC dataset merging at once (a
# backfill on AWS: one Glue job run per partition) do exactly that. A merge is idempotent (a change only
# replaces an older sequence; an equal one changes nothing), so running it again over the table as it
# now is gives the state the two merges would give one after the other: the job re-runs it.
MERGE_ATTEMPTS = 8
_CONFLICTS = (
    "org.apache.iceberg.exceptions.CommitFailedException",
    "org.apache.iceberg.exceptions.ValidationException: Found conflicting",
    "org.apache.iceberg.exceptions.ValidationException: Found new conflicting",
)


def is_commit_conflict(error: BaseException) -> bool:
    """True when a MERGE failed because another commit overtook it (worth running again)."""
    text = str(error)
    return any(marker in text for marker in _CONFLICTS)


def merge_backoff_seconds(attempt: int, rand=random.random) -> float:
    """Seconds to wait before attempt `attempt + 1` (1-based `attempt` failed): full jitter on an
    exponential base of 1 s, capped at 20 s, so that writers that collided do not collide again."""
    return rand() * min(20.0, 2.0 ** (attempt - 1))
