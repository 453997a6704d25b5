"""Small object-store access for what Spark does not do for us: list the run's landing files, read
the plan and CSV headers, copy a landed file Spark cannot read under its own name, write the manifest. s3:// through boto3 (injected; Glue ships it),
file:/// through the standard library, so the same job code runs against a folder lake in tests."""

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Optional
from urllib.parse import unquote

from .errors import StorageError
from .locations import Location


@dataclass(frozen=True)
class StoredFile:
    location: Location
    size: int
    # The object's eTag as the listing gives it (S3: quoted; a local file: the MD5 of its bytes, as the
    # local twin of S3 notifications computes it). None for a sub-folder entry.
    etag: Optional[str] = None

    @property
    def name(self) -> str:
        return self.location.key.rsplit("/", 1)[-1]


class LocalStore:
    """file:/// locations."""

    @staticmethod
    def _path(location: Location) -> str:
        # file:// URIs are percent-encoded (Node's pathToFileURL writes a space as %20).
        return "/" + unquote(location.key)

    def list_files(self, folder: Location) -> List[StoredFile]:
        """Direct children of `folder` that are files, sorted by name; sub-folders are returned as
        entries whose key ends with '/' so callers can refuse them."""
        path = self._path(folder)
        try:
            names = sorted(os.listdir(path))
        except FileNotFoundError:
            return []
        except OSError as error:
            raise StorageError(f"cannot list {folder.uri}: {error}") from error
        out = []
        for name in names:
            full = os.path.join(path, name)
            if os.path.isdir(full):
                out.append(StoredFile(folder.child(name + "/"), 0))
            else:
                out.append(StoredFile(folder.child(name), os.path.getsize(full), _md5(full)))
        return out

    def read_bytes(self, location: Location, max_bytes: Optional[int] = None) -> bytes:
        try:
            with open(self._path(location), "rb") as handle:
                return handle.read() if max_bytes is None else handle.read(max_bytes)
        except OSError as error:
            raise StorageError(f"cannot read {location.uri}: {error}") from error

    def write_text(self, location: Location, text: str) -> None:
        path = self._path(location)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Write then rename: a reader never sees half a manifest.
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except OSError as error:
            raise StorageError(f"cannot write {location.uri}: {error}") from error


    def copy(self, source: Location, target: Location) -> None:
        path = self._path(target)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(self._path(source), path)
        except OSError as error:
            raise StorageError(f"cannot copy {source.uri} to {target.uri}: {error}") from error

    def delete(self, location: Location) -> None:
        """Removes the file, then its folder if that is left empty."""
        path = self._path(location)
        try:
            if os.path.exists(path):
                os.remove(path)
            folder = os.path.dirname(path)
            if os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        except OSError as error:
            raise StorageError(f"cannot delete {location.uri}: {error}") from error


def _md5(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class S3Store:
    """s3:// locations, through a boto3 S3 client (created once, injectable for tests)."""

    def __init__(self, client):
        self._client = client

    def list_files(self, folder: Location) -> List[StoredFile]:
        out = []
        token = None
        try:
            while True:
                request = {"Bucket": folder.bucket, "Prefix": folder.key, "Delimiter": "/"}
                if token:
                    request["ContinuationToken"] = token
                page = self._client.list_objects_v2(**request)
                for obj in page.get("Contents", []):
                    if obj["Key"] == folder.key:
                        continue  # the folder marker itself
                    out.append(
                        StoredFile(Location("s3", folder.bucket, obj["Key"]), int(obj.get("Size", 0)), obj.get("ETag"))
                    )
                for prefix in page.get("CommonPrefixes", []):
                    out.append(StoredFile(Location("s3", folder.bucket, prefix["Prefix"]), 0))
                if not page.get("IsTruncated"):
                    break
                token = page.get("NextContinuationToken")
        except Exception as error:  # botocore raises many classes; all mean "cannot list"
            if isinstance(error, StorageError):
                raise
            raise StorageError(f"cannot list {folder.uri}: {error}") from error
        return sorted(out, key=lambda f: f.location.key)

    def read_bytes(self, location: Location, max_bytes: Optional[int] = None) -> bytes:
        request = {"Bucket": location.bucket, "Key": location.key}
        if max_bytes is not None:
            request["Range"] = f"bytes=0-{max_bytes - 1}"
        try:
            return self._client.get_object(**request)["Body"].read()
        except Exception as error:
            raise StorageError(f"cannot read {location.uri}: {error}") from error

    def write_text(self, location: Location, text: str) -> None:
        try:
            self._client.put_object(
                Bucket=location.bucket,
                Key=location.key,
                Body=text.encode("utf-8"),
                ContentType="application/json",
            )
        except Exception as error:
            raise StorageError(f"cannot write {location.uri}: {error}") from error


    def copy(self, source: Location, target: Location) -> None:
        """S3's server-side copy (boto3's managed copy: CopyObject, or UploadPartCopy parts above its
        multipart threshold, so objects over 5 GB copy too). The copy gets no tags (REPLACE with none):
        copying them would need s3:GetObjectTagging and s3:PutObjectTagging, and nothing reads them."""
        try:
            self._client.copy(
                {"Bucket": source.bucket, "Key": source.key},
                target.bucket,
                target.key,
                ExtraArgs={"TaggingDirective": "REPLACE"},
            )
        except Exception as error:
            raise StorageError(f"cannot copy {source.uri} to {target.uri}: {error}") from error

    def delete(self, location: Location) -> None:
        try:
            self._client.delete_object(Bucket=location.bucket, Key=location.key)
        except Exception as error:
            raise StorageError(f"cannot delete {location.uri}: {error}") from error


def default_s3_client():
    import boto3  # available on Glue; imported lazily so the pure tests need no PyPI package

    return boto3.client("s3")


class Stores:
    """Picks the store for a location's scheme; the S3 client is created once, on first use."""

    def __init__(self, s3_client_factory: Callable[[], object] = default_s3_client):
        self._factory = s3_client_factory
        self._s3: Optional[S3Store] = None
        self._local = LocalStore()

    def for_location(self, location: Location):
        if location.scheme == "file":
            return self._local
        if self._s3 is None:
            self._s3 = S3Store(self._factory())
        return self._s3

    def list_files(self, folder: Location) -> List[StoredFile]:
        return self.for_location(folder).list_files(folder)

    def read_bytes(self, location: Location, max_bytes: Optional[int] = None) -> bytes:
        return self.for_location(location).read_bytes(location, max_bytes)

    def write_text(self, location: Location, text: str) -> None:
        self.for_location(location).write_text(location, text)

    def copy(self, source: Location, target: Location) -> None:
        if source.scheme != target.scheme:
            raise StorageError(f"cannot copy {source.uri} to {target.uri}: not the same kind of store")
        self.for_location(source).copy(source, target)

    def delete(self, location: Location) -> None:
        self.for_location(location).delete(location)
