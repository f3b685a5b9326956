#!/usr/bin/env bash
# National scale (issue 20), from scratch, in one run: TARGETS targets
# (default 30000; 300000 is the national case) as one generated plan over the
# region table (real regions first, synthetic prefectures when the table has
# too few) × 100 synthetic yearly indicators, ten years of figures each,
# imported with `qualitymon import` into a fresh InfluxDB 1.8.10 with its
# default configuration (max-values-per-tag 100,000, max-series-per-database
# 1,000,000; the database made by scripts/influxdb.sh, WITH SHARD DURATION
# 5200w), then `qualitymon serve` started over it. Prints each figure
# beside its goal:
#   /readyz after start, the full evaluation (and its parts), /readyz after a
#   restart (from the snapshot of the last full read), a scheduled
#   (incremental) evaluation, serve's peak RSS, /metrics
#   series, scrape time and size, one upload until /metrics shows it,
#   InfluxDB's series; the pages, exports and /api/v1/completeness (its
#   first page and the next, by the cursor), each with its load average.
# The figures mean something only on an otherwise idle machine: the load
# average is printed before and after. KEEP=1 keeps the work directory;
# DEBUG_LISTEN=addr serves Go's profiler from serve (debug_listen).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-30000}
# PLANS=one (default): one plan over every region; PLANS=region: a plan per
# region, as every county its own plan nationally.
plans=${PLANS:-one}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-scale.XXXXXX")
serve_pid=""
cleanup() {
	[[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
	[[ -n "${INFLUXDB_DIR:-}" ]] && scripts/influxdb.sh stop "$INFLUXDB_DIR" >/dev/null 2>&1 || true
	[[ "${KEEP:-}" == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
row() { # figure measured goal verdict
	printf '  %-44s %14s   goal %-12s %s\n' "$1" "$2" "$3" "$4"
}
# start_serve CONFIG LOG: serve in the background (serve_pid) until /readyz.
start_serve() {
	"$work/qualitymon" -c "$1" serve >"$2" 2>&1 &
	serve_pid=$!
	until curl -sf -o /dev/null "$base/readyz"; do
		kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$2"; exit 1; }
		sleep 0.2
	done
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "ok" : "OVER" }'; }

echo "load before: $(uptime)"
scripts/influxdb.sh install >/dev/null
go build -o "$work/qualitymon" ./cmd/qualitymon
eval "$(scripts/influxdb.sh start "$work/influxdb")"
port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')
go run ./scripts/benchscale -targets "$targets" -out "$work" -influx "$QUALITYMON_INFLUX_URL" -listen "127.0.0.1:$port" -token bench-scale-token -plans "$plans"
base="http://127.0.0.1:$port"
cfg="$work/qualitymon.yaml"
# DEBUG_LISTEN=127.0.0.1:6060: serve answers Go's profiler there (go tool
# pprof http://127.0.0.1:6060/debug/pprof/heap), for the peak's profile.
[[ -n "${DEBUG_LISTEN:-}" ]] && echo "debug_listen: \"$DEBUG_LISTEN\"" >>"$cfg"

t=$(now)
"$work/qualitymon" -c "$cfg" import "$work/figures.csv" | tail -1
import_s=$(since "$t")

t=$(now)
start_serve "$cfg" "$work/serve.log"
ready_s=$(since "$t")
# (grep -q would end the pipe early: with pipefail curl's SIGPIPE fails it)
until curl -s -o "$work/m.txt" "$base/metrics" && grep -q "^qualitymon_evaluation_targets $targets\$" "$work/m.txt"; do
	kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$work/serve.log"; exit 1; }
	sleep 0.5
done
first_s=$(since "$t")
eval_s=$(curl -s "$base/metrics" | awk '$1 == "qualitymon_evaluation_duration_seconds" { printf "%.2f", $2 }')

read -r scrape_s scrape_bytes < <(curl -s -o "$work/metrics.txt" -w '%{time_total} %{size_download}\n' "$base/metrics")
sleep 1 # the gzipped page is made once updates pause
read -r gz_s gz_bytes < <(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total} %{size_download}\n' "$base/metrics")
series=$(grep -vc '^#' "$work/metrics.txt")
per_target=$(grep -c '^qualitymon_target_' "$work/metrics.txt" || true)

region=$(grep -o 'regions: \["[0-9]*"\]' "$cfg" | grep -o '[0-9]\{6\}')
# 12.34 against figures of 80–99 is a plausibility warning: confirmed (已核实),
# else the upload is refused with 409.
t=$(now)
code=$(curl -s -o "$work/upload.txt" -w '%{http_code}' -H 'Authorization: Bearer bench-scale-token' -H 'Content-Type: text/csv' \
	--data-binary $'indicator,region,period,value\nbench_000,'"$region"$',2025,12.34\n' "$base/api/v1/uploads?confirm_warnings=1")
[[ "$code" == 200 ]] || { echo "the upload was refused: $code $(head -c 600 "$work/upload.txt")"; exit 1; }
# (polled gzipped, as Prometheus scrapes: the plain page is 181 MB at
# 300,000 targets, and each poll would add its transfer)
until curl -s --compressed -o "$work/m.txt" "$base/metrics" && grep -q "actual=\"12.34\".*target=\"t-000-$region\"" "$work/m.txt"; do
	awk -v t="$t" -v n="$(now)" 'BEGIN { exit !(n - t > 120) }' && { echo "the upload never reached /metrics"; exit 1; }
	sleep 0.1
done
upload_s=$(since "$t")
# serve's part of it: the ingest's run (judge, publish), from its log.
applied=$(grep 'msg=applied' "$work/serve.log" | tail -1 | awk '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	printf "judged %s, encoded %s: judge %.3f s, publish %.3f s", f["judged"], f["encoded"], f["judge_s"], f["publish_s"] }')

# serve answers /api/v1/completeness from a background refresh after the
# evaluation: wait for the first (at most 10 minutes).
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/completeness?region=$region")" == 200 ]]; do
	awk -v t="$t" -v n="$(now)" 'BEGIN { exit !(n - t > 600) }' && { echo "the completeness listing never came"; break; }
	sleep 1
done
comp_s=$(since "$t")

# The pages (from the latest evaluation), the exports (streamed: the first
# byte, then the whole file) and the completeness listing, each asked twice:
# the first also builds the pages' index when it is not ready yet.
pages=()
page() { # label path
	local code ttfb total bytes
	for _ in 1 2; do
		read -r code ttfb total bytes < <(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}\n' "$base$2")
	done
	pages+=("$1|$code|$ttfb|$total|$bytes|$(cut -d' ' -f1 /proc/loadavg)")
}
# The plan of the pages: the one plan, or the upload region's own.
key=benchscale-2021
size=200 # a plan per region has 100 targets: pages of 40 there
[[ "$plans" == region ]] && key=bench-$region-2021 size=40
province=${region:0:2}0000
page "overview /" "/"
page "scorecard page 1" "/plans/$key?size=$size"
page "scorecard page 2" "/plans/$key?size=$size&page=2"
page "scorecard sorted by gap, page 3" "/plans/$key?size=$size&sort=gap&page=3"
page "scorecard of province $province" "/plans/$key?region=$province"
page "scorecard search indicator+region" "/plans/$key?indicator=bench_007&region=$province"
page "indicator comparison" "/indicators/bench_000"
page "export status.csv (streamed)" "/export/status.csv"
page "export status.xlsx (streamed)" "/export/status.xlsx?plan=$key"
page "/api/v1/completeness (first page)" "/api/v1/completeness"
# The following page, by the first page's page.next (a cursor).
curl -s -o "$work/completeness.json" "$base/api/v1/completeness"
next=$(grep -o '"next": *"[^"]*"' "$work/completeness.json" | sed 's/.*"next": *"//; s/"$//; s/\\u0026/\&/g' || true)
[[ -n "$next" ]] && page "/api/v1/completeness (page 2, cursor)" "$next"
page "overview, plans found by name" "/?plan=bench"
page "/api/v1/completeness?region=" "/api/v1/completeness?region=$region"
page "/readyz (serving)" "/readyz"

rss_mb=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$serve_pid/status")
influx_series=$(curl -s "$QUALITYMON_INFLUX_URL/query" --data-urlencode "db=qualitymon" --data-urlencode "q=SHOW SERIES CARDINALITY" | grep -o '"values":\[\[[0-9]*' | grep -o '[0-9]*$' | awk '{ s += $1 } END { print s + 0 }')

# A restart: serve stopped and started again, with a schedule of 20 s. Its
# first run judges from the snapshot of the last full read and re-reads
# only the indicators written since (the upload's); after one more upload
# the next scheduled run re-reads that one. Each run's parts come from
# serve's log (evaluated … full snapshot indicators_read read_s judge_s
# publish_s).
evaluated() { # log n: the n-th "evaluated" line as "full snapshot indicators read judge publish total"
	local t0
	t0=$(now) # the line follows the publication (/readyz) by the history write
	until [[ "$(grep -c 'msg=evaluated' "$1")" -ge "$2" ]]; do
		awk -v t="$t0" -v n="$(now)" 'BEGIN { exit !(n - t > 600) }' && { echo "bench-scale: no evaluation $2 in $1" >&2; return 1; }
		sleep 0.5
	done
	grep 'msg=evaluated' "$1" | sed -n "$2p" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "%s %s %s %.2f %.2f %.2f %.2f\n", f["full"], f["snapshot"], f["indicators_read"], f["read_s"], f["judge_s"], f["publish_s"], f["read_s"] + f["judge_s"] + f["publish_s"] }'
}
read -r _ _ _ full_read_s full_judge_s full_publish_s full_total_s < <(evaluated "$work/serve.log" 1)
load_first=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=""
sed 's/schedule: "@every 1h"/schedule: "@every 20s"/' "$cfg" >"$work/restart.yaml"
grep -q '@every 20s' "$work/restart.yaml" || { echo "bench-scale: no schedule of @every 1h in $cfg to change"; exit 1; }
[[ -n "$(find "$work" -name figures.snapshot -size +0)" ]] || echo "bench-scale: no snapshot of the figures was written"
load_restart=$(cut -d' ' -f1-3 /proc/loadavg)
t=$(now)
start_serve "$work/restart.yaml" "$work/serve2.log"
restart_ready_s=$(since "$t")
read -r r_full r_snap r_inds r_read_s r_judge_s r_publish_s r_total_s < <(evaluated "$work/serve2.log" 1)
code=$(curl -s -o "$work/upload2.txt" -w '%{http_code}' -H 'Authorization: Bearer bench-scale-token' -H 'Content-Type: text/csv' \
	--data-binary $'indicator,region,period,value\nbench_001,'"$region"$',2025,12.35\n' "$base/api/v1/uploads?confirm_warnings=1")
[[ "$code" == 200 ]] || { echo "the second upload was refused: $code $(head -c 600 "$work/upload2.txt")"; exit 1; }
read -r s_full s_snap s_inds s_read_s s_judge_s s_publish_s s_total_s < <(evaluated "$work/serve2.log" 2)
load_sched=$(cut -d' ' -f1-3 /proc/loadavg)
# The completeness refreshes after the restart: the first reads every
# figure; the one after the second upload (a minute after the first's
# start at the earliest) only the indicators written since.
refreshed() { # log n: the n-th refresh as "full indicators_read took_s"
	local t0
	t0=$(now)
	until [[ "$(grep -c 'msg="completeness refreshed"' "$1")" -ge "$2" ]]; do
		awk -v t="$t0" -v n="$(now)" 'BEGIN { exit !(n - t > 600) }' && { echo "bench-scale: no completeness refresh $2 in $1" >&2; echo "- - -"; return 0; }
		sleep 1
	done
	grep 'msg="completeness refreshed"' "$1" | sed -n "$2p" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "%s %s %.2f\n", f["full"], f["indicators_read"], f["took_s"] }'
}
read -r c1_full c1_inds c1_s < <(refreshed "$work/serve2.log" 1)
read -r c2_full c2_inds c2_s < <(refreshed "$work/serve2.log" 2)
load_comp=$(cut -d' ' -f1-3 /proc/loadavg)
rss2_mb=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$serve_pid/status")

echo
echo "bench-scale: $targets targets ($(date -u +%FT%TZ), $(nproc) cores)"
row "import of $((targets * 10)) figures (s)" "$import_s" "-" ""
row "/readyz after start (s)" "$ready_s" "10" "$(le "$ready_s" 10)"
row "first evaluation on /metrics after start (s)" "$first_s" "-" ""
row "full evaluation (s)" "$eval_s" "10" "$(le "$eval_s" 10)"
row "  its parts: read from InfluxDB, judge, publish (s)" "$full_read_s $full_judge_s $full_publish_s" "-" "load $load_first"
row "restart: /readyz after start (s)" "$restart_ready_s" "10" "$(le "$restart_ready_s" 10)  load $load_restart"
row "  its evaluation: snapshot=$r_snap full=$r_full, re-read $r_inds ind." "$r_total_s" "-" "(read $r_read_s, judge $r_judge_s, publish $r_publish_s)"
row "scheduled evaluation: full=$s_full, re-read $s_inds ind. (s)" "$s_total_s" "10" "$(le "$s_total_s" 10)  load $load_sched (read $s_read_s, judge $s_judge_s, publish $s_publish_s)"
row "completeness refresh: full=$c1_full, read $c1_inds ind. (s)" "$c1_s" "-" ""
row "  the next: full=$c2_full, read $c2_inds ind. (s)" "$c2_s" "-" "load $load_comp"
row "serve peak RSS after the restart (MB)" "$rss2_mb" "1000" "$(le "$rss2_mb" 1000)"
row "serve peak RSS (MB)" "$rss_mb" "1000" "$(le "$rss_mb" 1000)"
row "/metrics series" "$series" "1000000" "$(le "$series" 1000000)"
row "per-target series per target" "$(awk -v a="$per_target" -v b="$targets" 'BEGIN { printf "%.2f", a / b }')" "3" "$(le "$per_target" $((3 * targets)))"
row "scrape plain (s, MB)" "$scrape_s $(awk -v b="$scrape_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')" "2" "$(le "$scrape_s" 2)"
row "scrape gzip (s, MB)" "$gz_s $(awk -v b="$gz_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')" "2" "$(le "$gz_s" 2)"
row "one upload until /metrics shows it (s)" "$upload_s" "1" "$(le "$upload_s" 1)"
row "  its run in serve (after the spool's write)" "${applied:-none logged}" "-" "(polled by gzipped scrapes of $gz_s s)"
row "InfluxDB series (default limit 1,000,000)" "$influx_series" "1000000" "$(le "${influx_series:-0}" 1000000)"
row "completeness listing after the upload (s)" "$comp_s" "-" ""
echo "  pages (HTTP code, first byte, whole, size, 1-min load when asked), goal: first byte ≤ 0.3 s (pages and exports), ≤ 2 s (completeness):"
for p in "${pages[@]}"; do
	IFS='|' read -r label code ttfb total bytes load <<<"$p"
	goal=0.3
	[[ "$label" == /api/v1/completeness* ]] && goal=2
	printf '  %-44s %3s %8.3f s %8.3f s %9.1f MB  load %5s   goal %-5s %s\n' "$label" "$code" "$ttfb" "$total" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$load" "$goal" \
		"$( [[ "$code" == 200 ]] && le "$ttfb" "$goal" || echo FAILED)"
done
echo "load after: $(uptime)"
