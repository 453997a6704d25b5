#!/usr/bin/env bash
# The project's Python test environment: .venv, created on first use from python/requirements.lock
# (pyspark 3.5.6 as on AWS Glue 5.1, moto server, cfn-lint, checkov). Re-created when the lock changes.
#   bash scripts/pyenv.sh           make sure .venv matches the lock (fast when it does)
#   bash scripts/pyenv.sh --relock  re-resolve python/requirements.in and rewrite the lock
# Spark also needs a Java 17 runtime on PATH (.ci/run installs it when missing).
# It also fetches the Iceberg Spark runtime (the jar Glue 5.1 ships for --datalake-formats iceberg) into
# .venv/jars/, pinned by version and SHA-256, from Maven Central (MEDALLION_MAVEN_REPO for a mirror):
# the local Spark engine writes the CDC datasets' silver as real Iceberg tables with it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
lock=python/requirements.lock
py="${MEDALLION_PYTHON:-python3}"

if command -v flock >/dev/null 2>&1; then
  exec 8>"${TMPDIR:-/tmp}/medallion-pyenv-$(pwd | cksum | cut -d' ' -f1).lock"
  flock 8
fi

if [[ "${1:-}" == "--relock" ]]; then
  tmp=$(mktemp -d)
  "$py" -m venv "$tmp/v"
  "$tmp/v/bin/pip" install --quiet --disable-pip-version-check -r python/requirements.in
  { sed -n '1,4p' "$lock"; "$tmp/v/bin/pip" freeze --all | grep -vE '^(pip|setuptools|wheel)=='; } > "$lock.new"
  mv "$lock.new" "$lock"
  rm -rf "$tmp"
  echo "pyenv: relocked $lock"
fi

# org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0 (Iceberg 1.10.0, as on AWS Glue 5.1).
iceberg_jar=iceberg-spark-runtime-3.5_2.12-1.10.0.jar
iceberg_sha256=70f9471870b2d456167d703c829f098a446b86bb1379eee338c0efa03a341026
iceberg_url="${MEDALLION_MAVEN_REPO:-https://repo1.maven.org/maven2}/org/apache/iceberg/iceberg-spark-runtime-3.5_2.12/1.10.0/$iceberg_jar"

fetch_jars() {
  local jar="$venv/jars/$iceberg_jar"
  if [[ -f "$jar" ]] && echo "$iceberg_sha256  $jar" | sha256sum --check --status; then
    return 0
  fi
  mkdir -p "$venv/jars"
  echo "pyenv: fetching $iceberg_jar from ${iceberg_url%%/org/*}" >&2
  curl --fail --silent --show-error --location --retry 3 -o "$jar.part" "$iceberg_url"
  if ! echo "$iceberg_sha256  $jar.part" | sha256sum --check --status; then
    rm -f "$jar.part"
    echo "pyenv: $iceberg_jar does not have the pinned SHA-256 $iceberg_sha256" >&2
    exit 1
  fi
  mv "$jar.part" "$jar"
}

stamp="$($py --version 2>&1) $(sha256sum "$lock" | cut -d' ' -f1)"
if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$stamp" ]]; then
  fetch_jars
  exit 0
fi

echo "pyenv: creating $venv from $lock (first run: a few minutes)" >&2
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock"
"$venv/bin/pip" check >&2
fetch_jars
echo "$stamp" > "$venv/.stamp"
echo "pyenv: ready ($("$venv/bin/python" -c 'import pyspark, moto; print("pyspark", pyspark.__version__, "moto", moto.__version__)'))" >&2
