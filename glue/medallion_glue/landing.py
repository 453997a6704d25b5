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
from .locations import Location
from .storage import StoredFile

# Why a landing file named _x or .x fails the run (local/glue-runner.ts says the same).
HIDDEN_NAME = "a name starting with '_' or '.', which Spark treats as hidden and skips (rename the file)"

# Hadoop, under every Spark file reader, picks a file's codec by the exact, case-sensitive suffix of its
# name (CompressionCodecFactory.getCodec: GzipCodec registers '.gz'), so `FEED.CSV.GZ` would be read as
# compressed bytes. Such a file is read through a copy of it whose name ends in '.gz' (gz_copies), in a
# folder of the job's --TempDir; the copy is deleted when the run ends.
GZ_COPY_FOLDER = "medallion-gz-copies"

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


def needs_gz_copy(name: str) -> bool:
    """A gzipped file that Spark would not decompress under its own name (`.GZ`, `.Gz`, `.gZ`)."""
    return name.lower().endswith(".gz") and not name.endswith(".gz")


def gz_copies(files: Sequence[LandingFile], temp_dir: Optional[Location], job_run_id: str) -> Dict[str, Location]:
    """Landed file URI -> where its copy is read from, for every file that needs_gz_copy: in the run's own
    folder of the job's --TempDir (`<TempDir>medallion-gz-copies/<JOB_RUN_ID>/`), named by its position and
    its lower-cased extension (`0.csv.gz`, `1.json.gz`), so the copy is read exactly as a file landed with a
    lower-case name (same format, same reader options). Without a --TempDir, such a file fails the run
    naming it (rename it, or give the job a --TempDir)."""
    needed = [f for f in files if needs_gz_copy(f.file.name)]
    if not needed:
        return {}
    if temp_dir is None:
        names = ", ".join(f.uri for f in needed)
        raise LandingDataError(
            f"{names}: a gzipped file whose name does not end in the lower-case '.gz' is read through a copy "
            f"named '.gz' in the job's --TempDir, and this run has no --TempDir (give the job one, or rename "
            f"the file to end in '.gz')"
        )
    folder = temp_dir.child(f"{GZ_COPY_FOLDER}/{job_run_id}/")
    copies = {}
    for i, f in enumerate(needed):
        lower = f.file.name.lower()
        extension = max((e for e in FORMAT_EXTENSIONS[f.format] if lower.endswith(e)), key=len)
        copies[f.uri] = folder.child(f"{i}{extension}")
    return copies


def first_line(head: bytes, gzipped: bool, uri: str) -> Tuple[str, str]:
    """(header, line separator) of a CSV file from its first bytes (decompressing a .gz prefix): the first
    line without its end, and '\r\n' when it ends so, else '\n'."""
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
        line = head[:end].decode("utf-8")
    except UnicodeDecodeError as error:
        raise LandingDataError(f"{uri}: the CSV header is not UTF-8 ({error})") from error
    return (line[:-1], "\r\n") if line.endswith("\r") else (line, "\n")


def header_line(head: bytes, gzipped: bool, uri: str) -> str:
    """The first line of a CSV file from its first bytes, without its line end."""
    return first_line(head, gzipped, uri)[0]


@dataclass(frozen=True)
class CsvLayout:
    """How one header maps onto the declared columns."""

    header: Tuple[str, ...]
    missing: Tuple[str, ...]
    undeclared: Tuple[str, ...]
    # How the file's records end, from its header line: '\r\n' or '\n'. The Spark reader is given it
    # (lineSep): left to detect it, Spark's parser turns a '\r\n' inside a quoted value of a CRLF file
    # into '\n', which the local runner keeps as landed.
    line_sep: str = "\n"


def column_key(name: str) -> str:
    """The form in which a landed name is compared with the declared column names."""
    return name.strip(WHITESPACE).lower()


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(json.dumps(n, ensure_ascii=False) for n in names)


def match_columns(
    names: Sequence[str], declared: Sequence[str], require_all: bool, on_drift: str = "halt"
) -> Tuple[Dict[str, int], List[str], Dict[str, List[str]]]:
    """(declared column -> position of the one name matching it, problems, drift). A name matches the
    declared column it equals once trimmed and lower-cased. Problems: a blank name, a column named
    twice. Drift ({"undeclared": names as landed, "missing": declared columns}): an undeclared column,
    and with `require_all` (a CSV header) a declared column not named; with `on_drift` "halt" (the
    dataset's onDrift policy) drift is a problem too."""
    problems: List[str] = []
    by_key: Dict[str, List[int]] = {}
    for i, name in enumerate(names):
        by_key.setdefault(column_key(name), []).append(i)
    if "" in by_key:
        problems.append(f"unnamed column at position(s) {', '.join(str(i + 1) for i in by_key[''])}")
    for key, at in by_key.items():
        if key and len(at) > 1:
            problems.append(f"column {key} is named {len(at)} times ({_quoted([names[i] for i in at])})")
    undeclared = [names[at[0]] for key, at in by_key.items() if key and key not in declared]
    missing = [c for c in declared if c not in by_key] if require_all else []
    if on_drift == "halt":
        if undeclared:
            problems.append(
                f"undeclared column(s) {_quoted(undeclared)} "
                f"(declare them in the dataset's columns, or leave them out of the export)"
            )
        if missing:
            problems.append(f"missing declared column(s) {', '.join(missing)}")
    positions = {c: by_key[c][0] for c in declared if len(by_key.get(c, [])) == 1}
    return positions, problems, {"undeclared": undeclared, "missing": missing}


def csv_layout(line: str, declared: Sequence[str], uri: str, line_sep: str = "\n", on_drift: str = "halt") -> CsvLayout:
    """Columns are matched by name (match_columns), never by position. A blank or repeated name fails
    the run; drift (an undeclared column, a declared column missing) fails it under `on_drift` "halt",
    naming the file and the columns, and under "alert" is reported in the layout (`undeclared`, as
    landed; `missing`): the file is read with each undeclared column under a positional name
    (`_undeclared_<position>`, never loaded) and each missing column empty."""
    fields = next(csv.reader(io.StringIO(line)), [])
    if not fields or all(column_key(f) == "" for f in fields):
        raise LandingDataError(f"{uri}: empty CSV header line (the first line must name the columns)")
    keys = tuple(column_key(f) for f in fields)
    if not set(keys) & set(declared):
        raise LandingDataError(
            f"{uri}: CSV header {list(keys)} names none of the declared columns {list(declared)} (is the header missing?)"
        )
    _, problems, drift = match_columns(fields, declared, True, on_drift)
    if problems:
        raise LandingDataError(f"{uri}: its columns do not match the dataset's: {'; '.join(problems)}")
    header = tuple(k if k in declared else f"_undeclared_{i}" for i, k in enumerate(keys))
    return CsvLayout(
        header=header, missing=tuple(drift["missing"]), undeclared=tuple(drift["undeclared"]), line_sep=line_sep
    )


def group_by_header(layouts: Dict[str, CsvLayout]) -> List[Tuple[CsvLayout, List[str]]]:
    """CSV files that share a header and line ends can be read in one Spark read; order is stable."""
    groups: Dict[Tuple[Tuple[str, ...], str], Tuple[CsvLayout, List[str]]] = {}
    for uri in sorted(layouts):
        layout = layouts[uri]
        groups.setdefault((layout.header, layout.line_sep), (layout, []))[1].append(uri)
    return list(groups.values())


# --- JSON: the records of a file and how their keys map onto the declared columns (the local runner's
# readJsonLines in local/glue-runner.ts reads them the same way).

# JSON's own whitespace, what may stand between two records.
JSON_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def is_json_document(name: str) -> bool:
    """A `.json` file (optionally .gz) holds JSON values one after another, or a top-level array of
    them, possibly pretty-printed over many lines; `.jsonl` and `.ndjson` hold one value per line."""
    return name.lower().endswith((".json", ".json.gz"))


def _skip_whitespace(text: str, at: int) -> int:
    while at < len(text) and text[at] in JSON_WHITESPACE:
        at += 1
    return at


def json_document_records(text: str) -> List[str]:
    """The records of a `.json` document, each the raw text of one value, as the local runner's reader
    (DuckDB `format = 'auto'`) finds them: values separated by whitespace (JSON lines, pretty-printed
    objects), a top-level array standing for its elements; a leading byte order mark is ignored. This
    only finds where each value starts and ends: the engine parses each record itself (and refuses one
    that is not an object). A part that does not parse is returned as one record from the start of its
    value, which cannot be a single object, so the engine counts it as a corrupt record."""
    if text.startswith("\ufeff"):
        text = text[1:]
    records: List[str] = []
    at = _skip_whitespace(text, 0)
    while at < len(text):
        start = at
        try:
            if text[at] != "[":
                _, at = _DECODER.raw_decode(text, at)
                records.append(text[start:at])
            else:
                elements: List[str] = []
                at = _skip_whitespace(text, at + 1)
                closed = text[at] == "]"
                while not closed:
                    begin = at
                    _, at = _DECODER.raw_decode(text, at)
                    elements.append(text[begin:at])
                    at = _skip_whitespace(text, at)
                    if text[at] not in ",]":
                        raise ValueError("expected ',' or ']' after an array element")
                    closed = text[at] == "]"
                    if not closed:
                        at = _skip_whitespace(text, at + 1)
                at += 1
                records.extend(elements)
        except (ValueError, IndexError):
            records.append(text[start:])
            return records
        at = _skip_whitespace(text, at)
    return records


def json_key_spellings(
    key_sets: Sequence[Tuple[str, Sequence[str]]], declared: Sequence[str], on_drift: str = "halt"
) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    """(file URI, the keys of one record in order) for every distinct key list → (declared column →
    the key spellings that fill it (several when files spell it differently, e.g. `ID` and `id`),
    file URI → its undeclared keys as landed, sorted, for the files that have some).
    Raises naming each file whose records name a column twice or leave a name blank, or, under
    `on_drift` "halt", name an undeclared column (match_columns); a declared column a record lacks is a
    missing value, not a problem, and never drift."""
    problems: Dict[str, List[str]] = {}
    spellings: Dict[str, List[str]] = {}
    undeclared: Dict[str, List[str]] = {}
    for uri, keys in sorted(key_sets, key=lambda s: (s[0], list(s[1]))):
        positions, found, drift = match_columns(list(keys), declared, False, on_drift)
        for problem in found:
            if problem not in problems.setdefault(uri, []):
                problems[uri].append(problem)
        for name in drift["undeclared"]:
            if name not in undeclared.setdefault(uri, []):
                undeclared[uri].append(name)
        for column, at in positions.items():
            if keys[at] not in spellings.setdefault(column, []):
                spellings[column].append(keys[at])
    if problems:
        raise LandingDataError(
            "; ".join(f"{uri}: its columns do not match the dataset's: {'; '.join(p)}" for uri, p in sorted(problems.items()))
        )
    return {c: spellings[c] for c in declared if c in spellings}, {u: sorted(n) for u, n in undeclared.items() if n}
