"""Lake locations as URIs (s3://bucket/key or file:///abs/path) and the lake layout
(twin of shared/domain/layout.ts and stageSourceKey in shared/domain/glue-args.ts)."""

from dataclasses import dataclass

from .errors import JobArgumentError

SCHEMES = ("s3://", "file://")


@dataclass(frozen=True)
class Location:
    """A parsed URI. For s3 `bucket` is the bucket and `key` the object key; for file, bucket is ""
    and key the absolute path without its leading "/"."""

    scheme: str
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        if self.scheme == "s3":
            return f"s3://{self.bucket}/{self.key}"
        return f"file:///{self.key}"

    @property
    def is_folder(self) -> bool:
        return self.key.endswith("/")

    def child(self, name: str) -> "Location":
        if not self.is_folder:
            raise ValueError(f"{self.uri} is not a folder location (no trailing /)")
        return Location(self.scheme, self.bucket, self.key + name)


def parse_location(uri: str, argument: str) -> Location:
    """Parses an s3:// or file:/// URI; `argument` names the job argument in error messages."""
    if not isinstance(uri, str) or uri.strip() != uri or uri == "":
        raise JobArgumentError(f"--{argument}: expected an s3:// or file:/// URI, got {uri!r}")
    if uri.startswith("s3://"):
        rest = uri[len("s3://"):]
        bucket, sep, key = rest.partition("/")
        if not bucket or not sep:
            raise JobArgumentError(f"--{argument}: {uri!r} has no bucket/key (expected s3://bucket/key)")
        location = Location("s3", bucket, key)
    elif uri.startswith("file:///"):
        location = Location("file", "", uri[len("file:///"):])
    else:
        raise JobArgumentError(
            f"--{argument}: {uri!r} is neither s3://bucket/key nor file:///absolute/path"
        )
    segments = location.key.split("/")
    if any(s in (".", "..") for s in segments) or "" in segments[:-1]:
        raise JobArgumentError(f"--{argument}: {uri!r} contains an empty, '.' or '..' path segment")
    return location


def zone_key(zone: str, dataset: str, partition_path: str) -> str:
    return f"{zone}/{dataset}/{partition_path}/"


def manifest_key(dataset: str, stage: str, run_id: str) -> str:
    return f"_manifests/{dataset}/{stage}/{run_id}.json"


def stage_source_key(stage: str, dataset: str, landing_prefix: str, partition_path: str) -> str:
    if stage == "bronze":
        return f"{landing_prefix}{partition_path}/"
    if stage == "silver":
        return zone_key("bronze", dataset, partition_path)
    return zone_key("silver", dataset, partition_path)


def expected_locations(root: Location, stage: str, dataset: str, landing_prefix: str, partition_path: str, run_id: str):
    """The locations glueArguments() would pass for this run, given the lake root."""
    def at(key: str) -> str:
        return Location(root.scheme, root.bucket, root.key + key).uri

    return {
        "source_location": at(stage_source_key(stage, dataset, landing_prefix, partition_path)),
        "target_location": at(zone_key(stage, dataset, partition_path)),
        "quarantine_location": at(zone_key("quarantine", dataset, partition_path)),
        "manifest_location": at(manifest_key(dataset, stage, run_id)),
    }


def lake_root(target: Location, stage: str, dataset: str, partition_path: str) -> Location:
    """The lake root (bucket + optional prefix) the target location sits in, per the layout."""
    suffix = zone_key(stage, dataset, partition_path)
    if not target.key.endswith(suffix) or (target.key != suffix and not target.key[: -len(suffix)].endswith("/")):
        raise JobArgumentError(
            f"--target_location: {target.uri!r} does not end with the layout's {suffix!r} "
            f"(<lake root>/{stage}/<dataset>/<partition path>/)"
        )
    return Location(target.scheme, target.bucket, target.key[: -len(suffix)])


def is_within(inner: Location, outer: Location) -> bool:
    """True when `inner` is `outer` or lies below it (same scheme and bucket)."""
    if inner.scheme != outer.scheme or inner.bucket != outer.bucket:
        return False
    prefix = outer.key if outer.key.endswith("/") or outer.key == "" else outer.key + "/"
    return inner.key == outer.key or inner.key.startswith(prefix)


def escape_hadoop_glob(uri: str) -> str:
    """Spark globs every path it is given: escape glob characters so a file named
    `orders[1].csv` is read as itself (Hadoop GlobPattern honours backslash escapes)."""
    out = []
    for ch in uri:
        if ch in "{}[]*?\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)
