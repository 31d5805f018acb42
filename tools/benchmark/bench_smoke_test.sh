#!/usr/bin/env bash
# Smoke test of the benchmark harness: one 20 ms RTT link, tiny workloads,
# moshx and mosh 1.4 (/usr/bin, from `tools/setup --test`). Checks that every
# line is JSON of the expected shape and that both implementations produced
# figures; never checks a figure's size.
set -euo pipefail
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
export LANG=C.UTF-8
/usr/bin/python3 tools/benchmark/bench.py \
  --moshx cmd/moshx --relay tools/netem/udp_relay --links rtt20 \
  --keys 8 --seq 20000 --noise-bytes 20000 --flood-seconds 0.5 \
  --idle-seconds 2 --repeats 2 --vim-pages 3 --vim-lines 200 --top-seconds 2 \
  --pty-floor tools/benchmark/pty_floor --json "$out/bench.jsonl" --markdown "$out/bench.md"
/usr/bin/python3 - "$out/bench.jsonl" "$out/bench.md" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["type"] == "run" and lines[0]["machine"], lines[0]
raws = {l["impl"]: l["result"] for l in lines if l["type"] == "raw"}
assert set(raws) == {"mosh", "moshx"}, raws.keys()
for impl, r in raws.items():
  assert "error" not in r, (impl, r)
  assert r["keystroke"]["echoed"] > 0, (impl, r["keystroke"])
  assert r["vimtype"]["keys"] == 8 and r["vimtype"]["echoed"] > 0, (impl, r["vimtype"])
  for part in ("seq", "base64", "vim", "top"):
    assert r[part]["packets"] > 0 and r[part]["bytes"] > 0, (impl, r[part])
    assert r[part].get("seconds", 0) is not None, (impl, r[part])
  assert r["ctrl_c"]["seconds"] is not None, (impl, r["ctrl_c"])
  assert r["roam"]["seconds"] is not None, (impl, r["roam"])
  assert r["memory"]["server"]["VmRSS"] > 0, (impl, r["memory"])
  m = r["memory"]["server"]
  assert m["RssAnon"] > 0 and m["RssFile"] > 0, (impl, m)
  assert m["RssAnon"] + m["RssFile"] <= m["VmRSS"] + 4, (impl, m)  # + RssShmem
results = [l for l in lines if l["type"] == "result"]
assert results and all(l["link"] == "rtt20" for l in results)
for l in results:
  assert set(l) >= {"metric", "moshx", "mosh", "ratio", "goal_max_ratio"}, l
with_goal = [l for l in results if l["goal_max_ratio"] is not None]
assert len(with_goal) == 10, with_goal
floors = [l for l in lines if l["type"] == "floor"]
assert len(floors) == 1 and floors[0]["result"]["bytes"] > 0, floors
floor_results = [l for l in results if "goal_max_moshx" in l]
assert len(floor_results) == 1 and floor_results[0]["moshx"] is not None, floor_results
md = open(sys.argv[2]).read()
assert "| keystroke median ms |" in md and "Machine:" in md, md
assert "| vim typing share < 5 ms |" in md, md
assert "| vim paging wire bytes |" in md and "/ floor" in md, md
print(f"ok: {len(lines)} JSON lines")
PY
