"""Builds the Glue artifacts: the three job scripts and medallion_glue.zip (for --extra-py-files).

    python3 glue/build.py OUT_DIR

The zip is reproducible (sorted entries, fixed timestamps), so an unchanged package uploads as the
same bytes."""

import os
import shutil
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ("medallion_bronze.py", "medallion_silver.py", "medallion_gold.py")
PACKAGE = "medallion_glue"
ZIP_NAME = "medallion_glue.zip"


def package_files():
    root = os.path.join(HERE, PACKAGE)
    return sorted(n for n in os.listdir(root) if n.endswith(".py"))


def build(out_dir: str) -> list:
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for script in SCRIPTS:
        shutil.copyfile(os.path.join(HERE, script), os.path.join(out_dir, script))
        written.append(os.path.join(out_dir, script))
    archive = os.path.join(out_dir, ZIP_NAME)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in package_files():
            info = zipfile.ZipInfo(f"{PACKAGE}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(HERE, PACKAGE, name), "rb") as handle:
                zf.writestr(info, handle.read())
    written.append(archive)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python3 glue/build.py OUT_DIR", file=sys.stderr)
        sys.exit(2)
    for path in build(sys.argv[1]):
        print(f"wrote {path}")
