#!/usr/bin/env bash
# npm run package: `serverless package` offline → .serverless/ (template, one zip per function,
# staged Glue artifacts), then the bundle size report (.serverless/bundle-sizes.json).
#   --if-stale   do nothing when the output was packaged from the current inputs (stack tests)
#   --out DIR    package into DIR instead of .serverless/ (the stack tests' stage and parameter variants)
#   --extra-datasets DIR   (with --out) package datasets/ plus the dataset folders of DIR, a folder of
#                DIR replacing a datasets/ folder of the same name (the stack tests' CDC variant)
# Other arguments go to `osls package` (e.g. --param="tracing=true"). MEDALLION_STAGE / MEDALLION_REGION
# pick the stage and region (dev, eu-west-1).
# Packaging calls no AWS API: dummy credentials make sure none are looked up or used.
set -euo pipefail
cd "$(dirname "$0")/.."

stage="${MEDALLION_STAGE:-dev}"
region="${MEDALLION_REGION:-eu-west-1}"
if_stale=false
out=".serverless"
extra_datasets=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --if-stale) if_stale=true; shift ;;
    --out) out="$2"; shift 2 ;;
    --extra-datasets) extra_datasets="$(cd "$2" && pwd)"; shift 2 ;;
    *) break ;;
  esac
done

# One packaging at a time per checkout (parallel jest workers, several shells): serverless-esbuild
# builds in .esbuild/ and the registry is compiled to build/datasets.json.
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/medallion-package-$(pwd | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  flock 9
fi

inputs=(--dir "$out" --stage "$stage" --region "$region")
[[ -n "$extra_datasets" ]] && inputs+=(--extra-datasets "$extra_datasets")
inputs+=(-- "$@")
if $if_stale && node scripts/stack-inputs.cjs --fresh "${inputs[@]}"; then
  exit 0
fi

package_args=()
if [[ -n "$extra_datasets" && "$out" == ".serverless" ]]; then
  echo "package.sh: --extra-datasets needs --out (the default package is the shipped datasets)" >&2
  exit 2
fi
service="$PWD"
if [[ "$out" != ".serverless" ]]; then
  # osls builds in <service>/.serverless before moving it to --package: a variant is packaged from
  # a service folder of its own (links to the inputs), so it never touches the default package.
  out="$(mkdir -p "$out" && cd "$out" && pwd)"
  service="$out.service"
  rm -rf "$service" && mkdir -p "$service"
  cp serverless.yml package.json "$service/" # osls looks for a service file, not a link
  for input in package-lock.json tsconfig.json node_modules \
    stack scripts functions shared state-machines datasets glue cli bin; do
    [[ -e "$input" ]] && ln -s "$PWD/$input" "$service/$input"
  done
  if [[ -n "$extra_datasets" ]]; then
    rm "$service/datasets" && mkdir "$service/datasets"
    for folder in datasets/*/ "$extra_datasets"/*/; do
      name="$(basename "$folder")"
      rm -f "$service/datasets/$name"
      ln -s "$(cd "$folder" && pwd)" "$service/datasets/$name"
    done
  fi
  package_args+=(--package "$out")
fi
(cd "$service" && env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
  AWS_ACCESS_KEY_ID=AKIAOFFLINEPACKAGING AWS_SECRET_ACCESS_KEY=offline-packaging-only \
  AWS_REGION="$region" AWS_DEFAULT_REGION="$region" \
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
  npx --no-install osls package --stage "$stage" --region "$region" "${package_args[@]}" "$@")

[[ "$out" == ".serverless" ]] && node scripts/bundle-sizes.cjs
node scripts/stack-inputs.cjs --stamp "${inputs[@]}"
