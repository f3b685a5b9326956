#!/bin/bash
# Run by the `grafana-token` service once InfluxDB is up: makes sure Grafana has
# a token that can only READ the qualitymon bucket (never the admin token),
# and writes it to the grafana-secrets volume, which Grafana mounts read-only
# and its datasource reads with $__file{}. A token that still works is kept;
# run again (`docker compose run --rm grafana-token`) after restoring InfluxDB.
set -euo pipefail
: "${INFLUX_HOST:?}" "${INFLUX_TOKEN:?}" "${INFLUX_ORG:?}" "${INFLUXDB_BUCKET:?}"
out=${GRAFANA_TOKEN_FILE:-/run/qualitymon-secrets/grafana-influx-token}

if [ -s "$out" ] && INFLUX_TOKEN=$(cat "$out") influx bucket list --name "$INFLUXDB_BUCKET" --hide-headers >/dev/null 2>&1; then
	echo "grafana-token: the read-only token in $out still works"
	exit 0
fi
# The JSON output, not the table: its columns are padded with tabs.
field() { grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*: *"\(.*\)"/\1/'; }
bucket_id=$(influx bucket list --name "$INFLUXDB_BUCKET" --json | field id)
token=$(influx auth create --read-bucket "$bucket_id" \
	--description "grafana: read-only on bucket $INFLUXDB_BUCKET" --json | field token)
if [ -z "$token" ]; then
	echo "grafana-token: influx auth create returned no token" >&2
	exit 1
fi
tmp=$(mktemp "$out.XXXXXX")
printf '%s' "$token" >"$tmp"
chmod 0444 "$tmp" # the volume is mounted only here and, read-only, in grafana
mv "$tmp" "$out"
echo "grafana-token: wrote a read-only token for bucket $INFLUXDB_BUCKET to $out"
