#!/usr/bin/env bash
# Issue 13's memory goal as a test: idle PSS per extra session of the session
# host (host + session processes, shells excluded) stays <= 2 MB, measured by
# session_pss.sh with four sessions of real clients on loopback.
set -u
out=$(tools/benchmark/session_pss.sh cmd/moshx 4 2>&1) || { echo "FAIL: $out"; exit 1; }
echo "$out"
per=$(echo "$out" | sed -n 's/^per extra session: \([0-9]*\) KiB$/\1/p')
[ -n "$per" ] || { echo "FAIL: no figure in the output"; exit 1; }
[ "$per" -le 2048 ] || { echo "FAIL: $per KiB per extra session (goal: <= 2048 KiB)"; exit 1; }
echo PASS
