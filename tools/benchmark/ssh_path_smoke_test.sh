#!/usr/bin/env bash
# Smoke test of tools/benchmark/ssh_path_bench.sh (issue 15's benchmark): the
# SSH path and UDP side by side between network namespaces, tiny counts at one
# RTT. Checks the output's shape (JSON lines, one result per transport and
# metric with every sample present, the table); never a figure's size:
# timings are the benchmark's business, not a test's.
set -uo pipefail
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ssh-path-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
tools/benchmark/ssh_path_bench.sh --rtts 50 --keys 3 --ctrl-c 1 --flood-seconds 0.5 \
  >"$out/bench.jsonl" 2>"$out/bench.err"
status=$?
cat "$out/bench.jsonl" "$out/bench.err"
[ "$status" = 0 ] || { echo "FAIL: ssh_path_bench.sh exited $status"; exit 1; }
/usr/bin/python3 - "$out/bench.jsonl" "$out/bench.err" <<'PY' || exit 1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
run, end = lines[0], lines[-1]
assert run["type"] == "run" and run["machine"] and len(run["load_average"]) == 3, run
assert run["moshx_version"].startswith("moshx "), run
assert end["type"] == "end" and len(end["load_average"]) == 3, end
results = lines[1:-1]
assert all(r["type"] == "result" and r["link"] == "" for r in results), results
got = {(r["rtt_ms"], r["transport"], r["metric"]): r for r in results}
assert len(got) == len(results) == 4, results
for transport in ("ssh", "udp"):
  k = got[(50, transport, "keystroke_echo")]
  assert k["n"] == 3 and k["missing"] == 0 and len(k["samples_ms"]) == 3, k
  assert k["median_ms"] > 0 and k["p90_ms"] >= k["median_ms"], k
  c = got[(50, transport, "ctrl_c")]
  assert c["n"] == 1 and c["missing"] == 0 and c["median_ms"] > 0, c
table = [l for l in open(sys.argv[2]) if l.startswith("| 50 ms |")]
assert [l.split("|")[2].strip() for l in table] == ["ssh", "udp"], table
print(f"ok: {len(lines)} JSON lines, table of {len(table)} rows")
PY
echo PASS
