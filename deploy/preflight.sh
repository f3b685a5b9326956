#!/bin/sh
# Run by the `preflight` service before anything else starts: refuses to start
# the stack while a secret in .env is empty, still the placeholder of
# .env.example ("change-me…"), or too short to be a real secret.
# Usage: preflight.sh NAME... (each NAME an environment variable).
status=0
for name in "$@"; do
	eval "value=\${$name:-}"
	case "$value" in
	"")
		echo "preflight: $name is empty: set it in .env" >&2
		status=1
		;;
	*change-me*)
		echo "preflight: $name is still the placeholder from .env.example: set a real secret in .env (openssl rand -hex 32)" >&2
		status=1
		;;
	*)
		if [ "${#value}" -lt 16 ]; then
			echo "preflight: $name is shorter than 16 characters: use a real secret (openssl rand -hex 32)" >&2
			status=1
		fi
		;;
	esac
done
[ "$status" -eq 0 ] && echo "preflight: secrets set"
exit "$status"
