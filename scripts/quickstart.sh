#!/usr/bin/env bash
# Quick start: a real local InfluxDB 1.8.10 (installed on first use), the SAMPLE
# dataset imported, every target evaluated and printed, then `qualitymon serve`
# with /metrics on http://127.0.0.1:9737 until Ctrl-C (InfluxDB stops with it).
#
#   scripts/quickstart.sh            # everything above
#   QUICKSTART_NO_SERVE=1 scripts/quickstart.sh   # stop after printing the status table
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

command -v go >/dev/null || { echo "quickstart: Go is required (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p .tools/bin var
echo "==> building qualitymon"
go build -o .tools/bin/qualitymon ./cmd/qualitymon
QM=.tools/bin/qualitymon

echo "==> starting a local InfluxDB 1.8.10 (the first run builds it with go install: a few minutes)"
INFLUX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/qualitymon-influx.XXXXXX")
eval "$(scripts/influxdb.sh start "$INFLUX_DIR")"
trap 'scripts/influxdb.sh stop "$INFLUX_DIR" >/dev/null 2>&1 || true' EXIT
echo "    InfluxDB at $QUALITYMON_INFLUX_URL (bucket $QUALITYMON_INFLUX_BUCKET, data in $INFLUX_DIR)"

echo "==> checking the five plans"
$QM check targets

echo "==> importing the SAMPLE dataset (synthetic figures, not official statistics): sample/observations.csv"
$QM import sample/observations.csv

echo "==> status of every target (as of today)"
$QM status

if [ -n "${QUICKSTART_NO_SERVE:-}" ]; then
  exit 0
fi
LISTEN=${QUALITYMON_LISTEN:-127.0.0.1:9737}
echo "==> serving: http://$LISTEN/ (质量目标看板)  http://$LISTEN/metrics  http://$LISTEN/api/v1/status  http://$LISTEN/readyz  (Ctrl-C to stop)"
$QM serve --listen "$LISTEN"
