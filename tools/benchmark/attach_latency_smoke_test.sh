#!/usr/bin/env bash
# Smoke test of tools/benchmark/attach_latency.py (issue 13's attach figure):
# both ways of measuring run end to end on loopback (a private session host,
# `moshx connect --attach` with the script standing in for ssh, a `moshx
# client` through the UDP relay) and print a median per RTT. Never checks a
# figure's size: timings are the benchmark's business, not a test's.
set -euo pipefail
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/attach-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 tools/benchmark/attach_latency.py --moshx cmd/moshx \
  --relay tools/netem/udp_relay --runs 2 --rtts=-1,20 --via connect >"$out/connect.txt"
/usr/bin/python3 tools/benchmark/attach_latency.py --moshx cmd/moshx \
  --relay tools/netem/udp_relay --runs 1 --rtts=20 --via client >"$out/client.txt"
cat "$out/connect.txt" "$out/client.txt"
grep -Eq '^direct: median [0-9.]+ ms over 2 runs via connect' "$out/connect.txt"
grep -Eq '^RTT 20 ms: median [0-9.]+ ms over 2 runs via connect' "$out/connect.txt"
[ "$(grep -c 'attach answer -> whole screen drawn' "$out/connect.txt")" = 4 ]
grep -Eq '^RTT 20 ms: median [0-9.]+ ms over 1 runs via client' "$out/client.txt"
echo PASS
