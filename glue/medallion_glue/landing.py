"""What the bronze job reads: the run's landing files, classified by format exactly as on-landing
classifies them (shared/domain/object-key.ts), and CSV headers mapped onto the declared columns."""

import csv
import io
import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .contract import FORMAT_EXTENSIONS
from .errors import LandingDataError
from .storage import StoredFile

# Enough bytes to hold any sane CSV header line (gzip: compressed bytes fed to a stream decoder).
HEADER_PROBE_BYTES = 64 * 1024


@dataclass(frozen=True)
class LandingFile:
    file: StoredFile
    format: str

    @property
    def uri(self) -> str:
        return self.file.location.uri

    @property
    def gzipped(self) -> bool:
        return self.file.name.lower().endswith(".gz")


def file_format(name: str, formats: Sequence[str]) -> Optional[str]:
    lower = name.lower()
    for fmt in formats:
        if any(lower.endswith(ext) for ext in FORMAT_EXTENSIONS[fmt]):
            return fmt
    return None


def classify(files: Sequence[StoredFile], formats: Sequence[str], source_uri: str) -> Tuple[List[LandingFile], List[StoredFile]]:
    """(files to read, empty files skipped). Anything else in the partition folder fails the run:
    on-landing never starts a run for such objects, so their presence means someone broke the layout."""
    if not files:
        raise LandingDataError(
            f"--source_location {source_uri}: no landing files in the run's partition (nothing to ingest; "
            f"refusing to overwrite bronze with nothing)"
        )
    problems = []
    readable, empty = [], []
    accepted = ", ".join(ext for fmt in formats for ext in FORMAT_EXTENSIONS[fmt])
    for f in files:
        if f.location.key.endswith("/"):
            problems.append(f"{f.location.uri}: a folder below the partition (files must sit directly in it)")
            continue
        fmt = file_format(f.name, formats)
        if fmt is None:
            problems.append(f"{f.location.uri}: not one of the dataset's formats ({accepted})")
        elif f.size == 0:
            empty.append(f)
        else:
            readable.append(LandingFile(f, fmt))
    if problems:
        raise LandingDataError(f"{len(problems)} unreadable object(s) in the run's partition:\n  - " + "\n  - ".join(problems))
    if not readable:
        raise LandingDataError(f"--source_location {source_uri}: every landing file is empty ({len(empty)} file(s))")
    return readable, empty


def header_line(head: bytes, gzipped: bool, uri: str) -> str:
    """The first line of a CSV file from its first bytes (decompressing a .gz prefix)."""
    if gzipped:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error as error:
            raise LandingDataError(f"{uri}: not a valid gzip file ({error})") from error
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    end = head.find(b"\n")
    if end < 0:
        if len(head) >= HEADER_PROBE_BYTES:
            raise LandingDataError(f"{uri}: no end of line in the first {HEADER_PROBE_BYTES} bytes (CSV header expected)")
        end = len(head)
    try:
        return head[:end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as error:
        raise LandingDataError(f"{uri}: the CSV header is not UTF-8 ({error})") from error


@dataclass(frozen=True)
class CsvLayout:
    """How one header maps onto the declared columns."""

    header: Tuple[str, ...]
    missing: Tuple[str, ...]
    undeclared: Tuple[str, ...]


def csv_layout(line: str, declared: Sequence[str], uri: str) -> CsvLayout:
    """Columns are matched by name (trimmed, case-insensitive), never by position."""
    fields = next(csv.reader(io.StringIO(line)), [])
    header = tuple(f.strip().lower() for f in fields)
    if not header or all(h == "" for h in header):
        raise LandingDataError(f"{uri}: empty CSV header line (the first line must name the columns)")
    blank = [i + 1 for i, h in enumerate(header) if h == ""]
    if blank:
        raise LandingDataError(f"{uri}: CSV header has unnamed column(s) at position(s) {blank}")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise LandingDataError(f"{uri}: CSV header repeats column(s) {duplicates}")
    if not set(header) & set(declared):
        raise LandingDataError(
            f"{uri}: CSV header {list(header)} names none of the declared columns {list(declared)} (is the header missing?)"
        )
    return CsvLayout(
        header=header,
        missing=tuple(c for c in declared if c not in header),
        undeclared=tuple(h for h in header if h not in declared),
    )


def group_by_header(layouts: Dict[str, CsvLayout]) -> List[Tuple[CsvLayout, List[str]]]:
    """CSV files that share a header can be read in one Spark read; order is stable."""
    groups: Dict[Tuple[str, ...], Tuple[CsvLayout, List[str]]] = {}
    for uri in sorted(layouts):
        layout = layouts[uri]
        groups.setdefault(layout.header, (layout, []))[1].append(uri)
    return list(groups.values())
