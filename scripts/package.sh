#!/usr/bin/env bash
# npm run package: `serverless package` offline → .serverless/ (template, one zip per function,
# staged Glue artifacts), then the bundle size report (.serverless/bundle-sizes.json).
#   --if-stale   do nothing when .serverless/ was packaged from the current inputs (stack tests)
# Packaging calls no AWS API: dummy credentials make sure none are looked up or used.
set -euo pipefail
cd "$(dirname "$0")/.."

stage="${MEDALLION_STAGE:-dev}"
region="${MEDALLION_REGION:-eu-west-1}"
if_stale=false
if [[ "${1:-}" == "--if-stale" ]]; then
  if_stale=true
  shift
fi

# One packaging at a time per checkout (parallel jest workers, several shells).
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/medallion-package-$(pwd | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  flock 9
fi

if $if_stale && node scripts/stack-inputs.cjs --fresh; then
  exit 0
fi

env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
  AWS_ACCESS_KEY_ID=AKIAOFFLINEPACKAGING AWS_SECRET_ACCESS_KEY=offline-packaging-only \
  AWS_REGION="$region" AWS_DEFAULT_REGION="$region" \
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
  npx --no-install osls package --stage "$stage" --region "$region" "$@"

node scripts/bundle-sizes.cjs
if [[ $# -eq 0 ]]; then
  MEDALLION_STAGE="$stage" MEDALLION_REGION="$region" node scripts/stack-inputs.cjs --stamp
else
  # Packaged with extra options (--param ...): not the default package the tests expect.
  rm -f .serverless/stack-inputs.sha256
fi
