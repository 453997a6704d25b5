"""What the bronze job reads: the run's landing files, classified by format exactly as on-landing
classifies them, and CSV headers mapped onto the declared columns. Twin of shared/domain/landed-files.ts
(test/glue/landing-contract.test.ts runs both over the same cases)."""

import csv
import io
import json
import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .contract import FORMAT_EXTENSIONS, WHITESPACE
from .errors import LandingDataError
from .storage import StoredFile

# Why a landing file named _x or .x fails the run (shared/local/glue-runner.ts says the same).
HIDDEN_NAME = "a name starting with '_' or '.', which Spark treats as hidden and skips (rename the file)"

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
    on-landing never starts a run for such objects, so their presence means someone broke the layout.
    Empty (0-byte) files never fail the partition, even when every file is empty."""
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
        elif f.name.startswith(("_", ".")):
            # Spark's file listing skips such names as hidden: the rows would vanish silently.
            problems.append(f"{f.location.uri}: {HIDDEN_NAME}")
        elif f.size == 0:
            empty.append(f)
        else:
            readable.append(LandingFile(f, fmt))
    if problems:
        raise LandingDataError(f"{len(problems)} unreadable object(s) in the run's partition:\n  - " + "\n  - ".join(problems))
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


def column_key(name: str) -> str:
    """The form in which a landed name is compared with the declared column names."""
    return name.strip(WHITESPACE).lower()


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(json.dumps(n, ensure_ascii=False) for n in names)


def match_columns(names: Sequence[str], declared: Sequence[str], require_all: bool) -> Tuple[Dict[str, int], List[str]]:
    """(declared column -> position of the one name matching it, problems). A name matches the
    declared column it equals once trimmed and lower-cased. Problems: a blank name, a column named
    twice, an undeclared column, and with `require_all` (a CSV header) a declared column not named."""
    problems: List[str] = []
    by_key: Dict[str, List[int]] = {}
    for i, name in enumerate(names):
        by_key.setdefault(column_key(name), []).append(i)
    if "" in by_key:
        problems.append(f"unnamed column at position(s) {', '.join(str(i + 1) for i in by_key[''])}")
    for key, at in by_key.items():
        if key and len(at) > 1:
            problems.append(f"column {key} is named {len(at)} times ({_quoted([names[i] for i in at])})")
    undeclared = [(key, at) for key, at in by_key.items() if key and key not in declared]
    if undeclared:
        problems.append(
            f"undeclared column(s) {_quoted([names[at[0]] for _, at in undeclared])} "
            f"(declare them in the dataset's columns, or leave them out of the export)"
        )
    missing = [c for c in declared if c not in by_key]
    if require_all and missing:
        problems.append(f"missing declared column(s) {', '.join(missing)}")
    positions = {c: by_key[c][0] for c in declared if len(by_key.get(c, [])) == 1}
    return positions, problems


def csv_layout(line: str, declared: Sequence[str], uri: str) -> CsvLayout:
    """Columns are matched by name (match_columns), never by position; a header that does not match
    the declared columns exactly fails the run, naming the file and the columns."""
    fields = next(csv.reader(io.StringIO(line)), [])
    if not fields or all(column_key(f) == "" for f in fields):
        raise LandingDataError(f"{uri}: empty CSV header line (the first line must name the columns)")
    header = tuple(column_key(f) for f in fields)
    if not set(header) & set(declared):
        raise LandingDataError(
            f"{uri}: CSV header {list(header)} names none of the declared columns {list(declared)} (is the header missing?)"
        )
    _, problems = match_columns(fields, declared, True)
    if problems:
        raise LandingDataError(f"{uri}: its columns do not match the dataset's: {'; '.join(problems)}")
    return CsvLayout(header=header, missing=(), undeclared=())


def group_by_header(layouts: Dict[str, CsvLayout]) -> List[Tuple[CsvLayout, List[str]]]:
    """CSV files that share a header can be read in one Spark read; order is stable."""
    groups: Dict[Tuple[str, ...], Tuple[CsvLayout, List[str]]] = {}
    for uri in sorted(layouts):
        layout = layouts[uri]
        groups.setdefault(layout.header, (layout, []))[1].append(uri)
    return list(groups.values())
