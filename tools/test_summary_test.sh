#!/usr/bin/env bash
# tools/test_summary.py on hand-made Build Event Protocol files: test cases
# counted from test.xml, a failed or unbuilt target counted as failed, and two
# invocations (x86-64 and aarch64) summed, failures named with their
# configuration.
set -euo pipefail
SUMMARY=tools/test_summary.py
T=$TEST_TMPDIR
fail() { echo "FAIL: $*" >&2; exit 1; }

xml() {  # FILE PASSED FAILED
  { echo '<testsuites><testsuite>'
    for ((i = 0; i < $2; i++)); do echo "<testcase name=\"p$i\"/>"; done
    for ((i = 0; i < $3; i++)); do echo "<testcase name=\"f$i\"><failure/></testcase>"; done
    echo '</testsuite></testsuites>'; } >"$1"
}
# One invocation: configuration CONFIG (mnemonic MNEMONIC) and tests given as
# LABEL|STATUS|XML (XML may be empty: no test.xml; STATUS "none": no summary).
bep() {  # FILE CONFIG MNEMONIC TEST...
  local file=$1 config=$2 mnemonic=$3 t label status x
  shift 3
  echo "{\"id\":{\"configuration\":{\"id\":\"$config\"}},\"configuration\":{\"mnemonic\":\"$mnemonic\"}}" >"$file"
  for t in "$@"; do
    IFS="|" read -r label status x <<<"$t"
    echo "{\"id\":{\"targetConfigured\":{\"label\":\"$label\"}},\"configured\":{\"testSize\":\"SMALL\"}}" >>"$file"
    [ "$status" != none ] || continue
    local outputs=""
    [ -z "$x" ] || outputs="{\"name\":\"test.xml\",\"uri\":\"file://$x\"}"
    echo "{\"id\":{\"testResult\":{\"label\":\"$label\",\"configuration\":{\"id\":\"$config\"}}},\"testResult\":{\"testActionOutput\":[$outputs]}}" >>"$file"
    echo "{\"id\":{\"testSummary\":{\"label\":\"$label\",\"configuration\":{\"id\":\"$config\"}}},\"testSummary\":{\"overallStatus\":\"$status\"}}" >>"$file"
  done
}

xml "$T/a.xml" 3 0
xml "$T/b.xml" 1 1
bep "$T/host.json" c1 k8-fastbuild "//a:t|PASSED|$T/a.xml" "//s:sh|PASSED|"
out=$(python3 "$SUMMARY" "$T/host.json") || fail "exit status on a green run: $out"
[ "$out" = "4 passed, 0 failed" ] || fail "one file: '$out'"

bep "$T/arm.json" c2 aarch64-fastbuild "//a:t|PASSED|$T/a.xml" "//b:t|FAILED|$T/b.xml" "//c:t|none|"
if out=$(python3 "$SUMMARY" "$T/host.json" "$T/arm.json"); then fail "failures but exit 0"; fi
expected="FAILED: //b:t [aarch64-fastbuild] (FAILED)
FAILED: //c:t [aarch64-fastbuild] (NO STATUS)
by configuration: k8-fastbuild 4 passed 0 failed; aarch64-fastbuild 4 passed 2 failed
8 passed, 2 failed"
[ "$out" = "$expected" ] || fail "two files: got
$out"
bep "$T/empty.json" c1 k8-fastbuild
if out=$(python3 "$SUMMARY" "$T/empty.json"); then fail "no test ran but exit 0"; fi
[ "$out" = "0 passed, 0 failed" ] || fail "empty: '$out'"
echo PASS
