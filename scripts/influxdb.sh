#!/usr/bin/env bash
# Run a real InfluxDB 1.8.10 for the local quick start and for tests.
#
# InfluxDB 1.8.10 serves the v2-compatible write API (/api/v2/write) and Flux
# queries (/api/v2/query, with [http] flux-enabled = true) that
# github.com/influxdata/influxdb-client-go/v2 uses. The bucket is "db/rp"
# (qualitymon/autogen), the org is ignored ("-"), the token is empty (auth off).
# The database is made WITH SHARD DURATION 5200w (see cmd_start); influxd runs
# with its default configuration.
#
# Usage:
#   scripts/influxdb.sh install          build .tools/bin/influxd (go install ...@v1.8.10) unless present
#   scripts/influxdb.sh start [DIR]      start influxd with its data in DIR (default: a new temp dir),
#                                        print "export QUALITYMON_INFLUX_...=..." lines for eval
#   scripts/influxdb.sh stop DIR         stop it (TERM, then KILL) and remove DIR unless KEEP=1
#   scripts/influxdb.sh status DIR       exit 0 if it answers /ping
#
# Example:
#   eval "$(scripts/influxdb.sh start)"
#   go run ./cmd/qualitymon ...
#   scripts/influxdb.sh stop "$INFLUXDB_DIR"
#
# Environment:
#   QUALITYMON_INFLUXD   use this influxd binary instead of .tools/bin/influxd
#   INFLUXDB_PORT        HTTP port to bind (default: a free port)
#   INFLUXDB_START_TIMEOUT  seconds to wait for /ping (default 60; start-up takes ~5 s of CPU
#                        because Flux type-checks its standard library)
#   KEEP=1               "stop" leaves DIR in place
set -euo pipefail

readonly INFLUX_MODULE=github.com/influxdata/influxdb
readonly INFLUX_VERSION=v1.8.10
readonly DATABASE=qualitymon
readonly SHARD_DURATION=5200w

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly TOOLS_BIN="$ROOT/.tools/bin"

log() { printf 'influxdb.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# installed_version BIN prints the module version BIN was built from ("" when unknown).
installed_version() {
	command -v go >/dev/null 2>&1 || { echo "unknown"; return; }
	{ go version -m "$1" 2>/dev/null || true; } | awk -v m="$INFLUX_MODULE" '$1 == "mod" && $2 == m { print $3; exit }'
}

cmd_install() {
	local bin="$TOOLS_BIN/influxd"
	if [[ -x "$bin" ]]; then
		local v
		v=$(installed_version "$bin")
		if [[ "$v" == "$INFLUX_VERSION" || "$v" == "unknown" ]]; then
			echo "$bin"
			return
		fi
		log "$bin is ${v:-not a Go build of $INFLUX_MODULE}; reinstalling $INFLUX_VERSION"
	fi
	command -v go >/dev/null 2>&1 || die "go is not on PATH; cannot install influxd"
	mkdir -p "$TOOLS_BIN"
	# Serialise concurrent installs (parallel test binaries, a second shell).
	exec 9>"$ROOT/.tools/influxd.lock"
	if command -v flock >/dev/null 2>&1; then flock 9; fi
	if [[ -x "$bin" && "$(installed_version "$bin")" == "$INFLUX_VERSION" ]]; then
		echo "$bin"
		return
	fi
	local tmp
	tmp=$(mktemp -d "$ROOT/.tools/install.XXXXXX")
	log "installing $INFLUX_MODULE/cmd/influxd@$INFLUX_VERSION into $TOOLS_BIN (takes a minute or two the first time)"
	if ! (cd "$tmp" && env -u GOFLAGS GOWORK=off GOBIN="$tmp" go install "$INFLUX_MODULE/cmd/influxd@$INFLUX_VERSION") >&2; then
		rm -rf "$tmp"
		die "go install $INFLUX_MODULE/cmd/influxd@$INFLUX_VERSION failed"
	fi
	mv -f "$tmp/influxd" "$bin" # atomic rename: a running influxd keeps its old inode
	rm -rf "$tmp"
	echo "$bin"
}

# influxd_bin prints the influxd binary to run, installing it if needed.
influxd_bin() {
	if [[ -n "${QUALITYMON_INFLUXD:-}" ]]; then
		[[ -x "$QUALITYMON_INFLUXD" ]] || die "QUALITYMON_INFLUXD=$QUALITYMON_INFLUXD is not executable"
		echo "$QUALITYMON_INFLUXD"
		return
	fi
	cmd_install
}

port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
	fi
	# Something accepts connections there?
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
	return 1
}

# free_port prints an unused loopback port below the usual ephemeral range; $1 is a port to avoid.
free_port() {
	local avoid=${1:-0} port i
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + RANDOM % 12000))
		[[ "$port" == "$avoid" ]] && continue
		port_in_use "$port" || { echo "$port"; return; }
	done
	die "no free port found"
}

write_config() {
	local dir=$1 http_port=$2 rpc_port=$3
	sed -e "s|@DIR@|$dir|g" -e "s|@HTTP_PORT@|$http_port|g" -e "s|@RPC_PORT@|$rpc_port|g" \
		"$ROOT/internal/testenv/influxdb.conf.tmpl" >"$dir/influxdb.conf"
}

# pid_alive PID says whether PID is a running influxd.
pid_alive() {
	local pid=$1
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r "/proc/$pid/cmdline" ]]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q influxd || return 1
	fi
	return 0
}

http_port_of() {
	sed -n '/^\[http\]/,/^\[/ s/^ *bind-address *= *"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$1/influxdb.conf"
}

cmd_start() {
	local dir=${1:-} bin
	bin=$(influxd_bin)
	if [[ -z "$dir" ]]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/qualitymon-influxdb.XXXXXX")
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [[ -f "$dir/influxd.pid" ]] && pid_alive "$(cat "$dir/influxd.pid")"; then
		die "influxd already runs from $dir (pid $(cat "$dir/influxd.pid")); stop it first"
	fi

	# Restarting a kept DIR reuses its port when free, so earlier env lines stay valid.
	local attempt http_port rpc_port pid url ready old_port=""
	if [[ -z "${INFLUXDB_PORT:-}" && -f "$dir/influxdb.conf" ]]; then
		old_port=$(http_port_of "$dir")
		if [[ -n "$old_port" ]] && port_in_use "$old_port"; then old_port=""; fi
	fi
	for attempt in 1 2 3; do
		http_port=${INFLUXDB_PORT:-${old_port:-$(free_port)}}
		old_port=
		rpc_port=$(free_port "$http_port")
		write_config "$dir" "$http_port" "$rpc_port"
		url="http://127.0.0.1:$http_port"
		# influxd applies INFLUXDB_* variables over its config file: drop them.
		local -a unset_args=()
		local name
		while IFS= read -r name; do unset_args+=(-u "$name"); done < <(env | sed -n 's/^\(INFLUXDB_[A-Za-z0-9_]*\)=.*/\1/p')
		env "${unset_args[@]}" "$bin" run -config "$dir/influxdb.conf" </dev/null >>"$dir/influxd.log" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/influxd.pid"
		ready=0
		local i
		for ((i = 0; i < ${INFLUXDB_START_TIMEOUT:-60} * 10; i++)); do
			if curl -fsS -o /dev/null "$url/ping" 2>/dev/null; then ready=1; break; fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		[[ "$ready" == 1 ]] && break
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$dir/influxd.pid"
			tail -n 30 "$dir/influxd.log" >&2 || true
			die "influxd did not answer $url/ping within ${INFLUXDB_START_TIMEOUT:-60} s (log: $dir/influxd.log)"
		fi
		rm -f "$dir/influxd.pid"
		if [[ -z "${INFLUXDB_PORT:-}" ]] && grep -q "address already in use" "$dir/influxd.log"; then
			log "port taken, retrying ($attempt)"
			continue
		fi
		tail -n 30 "$dir/influxd.log" >&2 || true
		die "influxd exited during start-up (log: $dir/influxd.log)"
	done
	[[ "$ready" == 1 ]] || die "influxd could not bind a port (log: $dir/influxd.log)"

	# Shard groups of a century (1970–2069 in one): statistics are sparse (a
	# point per series and year or month), and with the default 7-day groups
	# a yearly series is one shard per year, so a full read of it costs
	# InfluxDB one cursor per year (docs/operations.md, "One server at
	# national scale"). Only the database's shard groups change; influxd's
	# configuration stays its default.
	local out create="CREATE DATABASE $DATABASE WITH SHARD DURATION $SHARD_DURATION"
	if ! out=$(curl -fsS -XPOST "$url/query" --data-urlencode "q=$create" 2>&1); then
		die "$create failed: $out"
	fi
	if [[ "$out" == *'conflicts with an existing policy'* ]]; then
		# A kept DIR whose database was made before with other shard groups keeps them.
		log "database $DATABASE exists with another shard duration; keeping it (docs/operations.md: ALTER RETENTION POLICY)"
	elif [[ "$out" == *'"error"'* ]]; then
		die "$create failed: $out"
	fi
	log "influxd $INFLUX_VERSION (pid $pid) serves $url, data in $dir"
	echo "export QUALITYMON_INFLUX_URL=$url QUALITYMON_INFLUX_BUCKET=$DATABASE/autogen QUALITYMON_INFLUX_ORG=- QUALITYMON_INFLUX_TOKEN= INFLUXDB_DIR=$dir"
}

cmd_stop() {
	local dir=${1:-}
	[[ -n "$dir" ]] || die "usage: $0 stop DIR"
	[[ -d "$dir" ]] || { log "$dir does not exist; nothing to stop"; return; }
	if [[ -f "$dir/influxd.pid" ]]; then
		local pid i
		pid=$(cat "$dir/influxd.pid")
		if pid_alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do # ~10 s
				pid_alive "$pid" || break
				sleep 0.1
			done
			if pid_alive "$pid"; then
				log "influxd (pid $pid) ignored TERM; killing"
				kill -KILL "$pid" 2>/dev/null || true
				sleep 0.2
			fi
		fi
		rm -f "$dir/influxd.pid"
	fi
	if [[ "${KEEP:-0}" == 1 ]]; then
		log "kept $dir"
	elif [[ -f "$dir/influxdb.conf" ]]; then
		rm -rf "$dir"
	else
		log "$dir has no influxdb.conf; not removing it"
	fi
}

cmd_status() {
	local dir=${1:-}
	[[ -n "$dir" && -f "$dir/influxdb.conf" ]] || die "usage: $0 status DIR"
	local port
	port=$(http_port_of "$dir")
	curl -fsS -o /dev/null "http://127.0.0.1:$port/ping" && echo "influxd answers on http://127.0.0.1:$port"
}

case "${1:-}" in
install) cmd_install ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
