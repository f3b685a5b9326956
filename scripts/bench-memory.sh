#!/usr/bin/env bash
# Memory of reading files (issue 19 items 1 and 6), all in one run: the
# hostile inputs (a workbook whose styles.xml inflates to 57 MiB, one of
# 900,000 tiny shared strings, three at once), the valid limit-sized ones
# (a workbook of 690,000 rows, a 10 MiB CSV of 331,000 rows) and a 200 MiB
# CSV with one quoted cell of line breaks, each sent to a fresh
# `qualitymon serve` over a real InfluxDB 1.8.10 or read by `qualitymon
# import`. Prints each process's peak RSS over idle beside the budget
# (256 MiB) and the figure measured before. About two minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/influxdb.sh install >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load before: $(uptime)"
go test -count=1 -timeout 30m -run '^$' -bench '^BenchmarkMemory$' -benchtime 1x ./internal/upload/ | tee "$out"
echo "load after: $(uptime)"
echo
echo "summary:"
grep -E '^memory: (serve|import):' "$out" | sed -E 's/  \(idle.*|  \(five-row.*//; s/^memory: /  /'
