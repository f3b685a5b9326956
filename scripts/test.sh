#!/usr/bin/env bash
# The test command: installs what the suite needs, then runs every test.
#   - InfluxDB 1.8.10 (go install into .tools/bin, git-ignored)
#   - promtool, prometheus and alertmanager from Debian's packages (apt-get, as root)
# Under CI=true, tests that need a server fail (never skip) when it cannot start.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

need_apt=()
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
# The web pages' browser test: Debian's chromium, a CJK font for readable screenshots, Node.js for playwright-core.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need_apt+=(fonts-wqy-microhei)
command -v npm >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing ${need_apt[*]} (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "test.sh: ${need_apt[*]} missing and cannot apt-get install (not root); the tests that need them will skip, or fail under CI=true" >&2
  fi
fi
echo "==> installing playwright-core for the browser test (npm ci, internal/web/e2e; no browser download)"
if command -v npm >/dev/null; then
  (cd internal/web/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "==> installing InfluxDB 1.8.10 when absent"
scripts/influxdb.sh install

echo "==> gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "==> go test ./..."
go test -count=1 -timeout 30m "$@" ./...
