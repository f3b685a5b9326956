#!/usr/bin/env bash
# Uploads under load (issue 9 item 1), all in one run: 50 concurrent clients
# posting 5-row CSVs to a real `qualitymon serve` over a real InfluxDB
# 1.8.10, and the same rows as raw line protocol from 50 clients, 5 rows a
# request, to InfluxDB's own /write (precision s), side by side: uploads/s,
# raw requests/s, the ratio (goal >= 0.5), p50/p99 (goal p99 <= 250 ms),
# exactly-once count (rows acknowledged vs rows stored). BENCH_PPROF=FILE
# also keeps a CPU profile of serve under the uploads (go tool pprof).
# Then the upload-to-/metrics latency at 30,000 targets (ROUNDS rounds,
# default 10: median and worst). The figures mean something only on an
# otherwise idle machine: the load average is printed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/influxdb.sh install >/dev/null
rounds=${ROUNDS:-10}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load before: $(uptime)"
go test -count=1 -run '^$' -bench '^BenchmarkUploads$' -benchtime 1x ./internal/upload/ | tee -a "$out"
go test -count=1 -run '^$' -bench '^BenchmarkIngestToMetrics$' -benchtime "${rounds}x" ./internal/server/ | tee -a "$out"
echo "load after: $(uptime)"
echo
echo "summary:"
grep -E '^bench: (qualitymon|raw|ratio|exactly)|^ingest-to-metrics: .*rounds' "$out" | sed 's/^/  /'
