#!/usr/bin/env bash
# echo_probe.py on a local /bin/sh: an idle and a --during phase of 5 samples
# each, reported as "echo_probe: PHASE ms: ...; median M"; a --during command
# that fails makes the probe fail.
set -uo pipefail
probe=tools/benchmark/echo_probe.py
out=$(python3 "$probe" --samples 5 --interval 0.05 --during 'sleep 5' -- /bin/sh) ||
  { echo "FAIL: the probe failed: $out"; exit 1; }
echo "$out"
for phase in idle during; do
  grep -Eq "^echo_probe: $phase ms: ([0-9]+\.[0-9] ){5}?.*; median [0-9]+\.[0-9]$" <<<"$out" ||
    { echo "FAIL: no $phase line"; exit 1; }
done
if python3 "$probe" --samples 2 --interval 0.05 --during 'sleep 4; false' -- /bin/sh; then
  echo "FAIL: a failing --during command was not reported"; exit 1
fi
echo PASS
