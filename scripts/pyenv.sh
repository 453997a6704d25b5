#!/usr/bin/env bash
# The project's Python test environment: .venv, created on first use from python/requirements.lock
# (pyspark 3.5.6 as on AWS Glue 5.1, moto server, cfn-lint, checkov). Re-created when the lock changes.
#   bash scripts/pyenv.sh           make sure .venv matches the lock (fast when it does)
#   bash scripts/pyenv.sh --relock  re-resolve python/requirements.in and rewrite the lock
# Spark also needs a Java 17 runtime on PATH (.ci/run installs it when missing).
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

stamp="$($py --version 2>&1) $(sha256sum "$lock" | cut -d' ' -f1)"
if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$stamp" ]]; then
  exit 0
fi

echo "pyenv: creating $venv from $lock (first run: a few minutes)" >&2
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock"
"$venv/bin/pip" check >&2
echo "$stamp" > "$venv/.stamp"
echo "pyenv: ready ($("$venv/bin/python" -c 'import pyspark, moto; print("pyspark", pyspark.__version__, "moto", moto.__version__)'))" >&2
