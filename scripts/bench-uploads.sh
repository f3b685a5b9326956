#!/usr/bin/env bash
# Uploads under load (issue 9 item 1): 50 concurrent clients posting 5-row
# CSVs to a real `qualitymon serve` over a real InfluxDB 1.8.10, and the same
# rows as raw line protocol straight to InfluxDB, side by side in one run:
# requests/s of both and the ratio, p50/p99, exactly-once count. Then the
# upload-to-/metrics latency at 30,000 targets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/influxdb.sh install >/dev/null
go test -count=1 -run '^$' -bench '^BenchmarkUploads$' -benchtime 1x ./internal/upload/
go test -count=1 -run '^$' -bench '^BenchmarkIngestToMetrics$' -benchtime 1x ./internal/server/
