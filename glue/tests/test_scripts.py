"""The job scripts and the package as shipped: they compile, the pure modules stay pure, nothing is
hard-coded, the build is reproducible, and a script fails loudly on a contract violation."""

import ast
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

from .helpers import LakeTestCase

GLUE = Path(__file__).resolve().parent.parent
SCRIPTS = ["medallion_bronze.py", "medallion_silver.py", "medallion_gold.py"]
PACKAGE = GLUE / "medallion_glue"
SPARK_MODULES = {"sparkio.py"}  # the only module allowed to import pyspark


def shipped_files():
    return [GLUE / s for s in SCRIPTS] + sorted(PACKAGE.glob("*.py"))


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


class Scripts(unittest.TestCase):
    def test_every_script_and_module_compiles(self):
        with tempfile.TemporaryDirectory() as out:
            for path in shipped_files():
                with self.subTest(file=path.name):
                    py_compile.compile(str(path), cfile=os.path.join(out, path.name + "c"), doraise=True)

    def test_pure_modules_import_nothing_from_spark_or_glue(self):
        for path in sorted(PACKAGE.glob("*.py")):
            if path.name in SPARK_MODULES:
                continue
            with self.subTest(module=path.name):
                spark = [m for m in imported_modules(path) if m.split(".")[0] in ("pyspark", "awsglue", "py4j")]
                self.assertEqual(spark, [])

    def test_each_script_runs_its_own_stage_from_job_arguments_only(self):
        for script, stage in zip(SCRIPTS, ("bronze", "silver", "gold")):
            with self.subTest(script=script):
                text = (GLUE / script).read_text()
                self.assertIn(f'getResolvedOptions(argv, job_args("{stage}"))', text)
                self.assertRegex(text, rf'run_stage\("{stage}", resolved')

    def test_no_bucket_is_hard_coded(self):
        # A bucket would appear as a string constant that is an s3:// URI (messages only mention the form).
        for path in shipped_files():
            constants = [n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            with self.subTest(file=path.name):
                self.assertEqual([c for c in constants if re.match(r"s3://[A-Za-z0-9]", c.strip())], [])


class ZipImport(unittest.TestCase):
    def test_the_package_imports_from_a_zip_as_glue_loads_it(self):
        # Glue puts --extra-py-files zips on sys.path; the stack zips glue/medallion_glue/*.py as
        # medallion_glue/<file> (stack/artifacts-plugin.cjs). Nothing may assume a real folder.
        with tempfile.TemporaryDirectory() as out:
            archive = os.path.join(out, "medallion_glue.zip")
            with zipfile.ZipFile(archive, "w") as zf:
                for path in sorted(PACKAGE.glob("*.py")):
                    zf.write(path, f"medallion_glue/{path.name}")
            probe = subprocess.run(
                [sys.executable, "-c", "import medallion_glue.stages, medallion_glue.storage as s; print(s.__file__)"],
                env={**os.environ, "PYTHONPATH": archive}, capture_output=True, text=True, cwd=out,
            )
            self.assertEqual(probe.returncode, 0, probe.stderr)
            self.assertIn("medallion_glue.zip", probe.stdout)

    def test_only_the_three_job_scripts_sit_at_the_top_of_glue(self):
        # The stack uploads every glue/*.py as a job script.
        self.assertEqual(sorted(p.name for p in GLUE.glob("*.py")), sorted(SCRIPTS))


class ScriptFailure(LakeTestCase):
    def test_a_contract_violation_exits_non_zero_naming_the_argument(self):
        # Prepare: the silver script, run as Glue runs it, with a partition path that disagrees.
        args = self.lake.args("silver", partition_path="year=2024/month=02/day=15")
        argv = [a for name, value in args.items() for a in (f"--{name}", value)]
        # PYTHONPATH as --extra-py-files gives it on Glue, plus the local awsglue shim; pyspark is the real one.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(GLUE), str(GLUE / "local")])}
        # Act
        result = subprocess.run([sys.executable, str(GLUE / "medallion_silver.py"), *argv], env=env, capture_output=True, text=True)
        # Assess
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("JobArgumentError: --partition_path: 'year=2024/month=02/day=15' disagrees", result.stderr)
        self.assertFalse(os.path.exists(self.lake.manifest_path("silver")))

    def test_a_missing_argument_fails_the_script_naming_it(self):
        # Prepare: Glue's own arguments, the job's without --dataset_plan
        args = self.lake.args("gold")
        del args["dataset_plan"]
        argv = [a for name, value in args.items() for a in (f"--{name}", value)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(GLUE), str(GLUE / "local")])}
        # Act
        result = subprocess.run([sys.executable, str(GLUE / "medallion_gold.py"), *argv], env=env, capture_output=True, text=True)
        # Assess
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("GlueArgumentError: the following arguments are required: --dataset_plan", result.stderr)


if __name__ == "__main__":
    unittest.main()
