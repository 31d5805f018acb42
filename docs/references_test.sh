#!/usr/bin/env bash
# //docs:references_test: every document reference in the tree resolves
# inside the repository (docs/check_references.py says what that means).
#
# First the checker is run on small made-up trees, so the test proves it can
# fail: each broken citation must be reported, the good ones must pass. Then
# it is run on the source tree this test was built from.
set -euo pipefail
CHECK=docs/check_references.py
T=$TEST_TMPDIR
S=$(printf '\302\247')  # the section sign, kept out of this file's text
fail() { echo "FAIL: $*" >&2; exit 1; }

# A tree with one doc (sections 1, 1.2, A, A.1) and one source file.
tree() {  # DIR SOURCE_TEXT
  rm -rf "$1"
  mkdir -p "$1/docs" "$1/net"
  printf '# Doc\n\n## 1. One\n\n### 1.2 Two\n\n## A. Letters\n\n### A.1 More\n\nSee %s1.2.\n' \
    "$S" >"$1/docs/a.md"
  printf '%s\n' "$2" >"$1/net/x.h"
}
expect_ok() {  # SOURCE_TEXT
  tree "$T/ok" "$1"
  python3 "$CHECK" "$T/ok" >"$T/out" || { cat "$T/out"; fail "rejected: $1"; }
}
expect_error() {  # SOURCE_TEXT MESSAGE_PART
  tree "$T/bad" "$1"
  if python3 "$CHECK" "$T/bad" >"$T/out"; then fail "accepted: $1"; fi
  grep -q -- "$2" "$T/out" || { cat "$T/out"; fail "no '$2' for: $1"; }
}

expect_ok "// Fine (docs/a.md ${S}1.2)."
expect_ok "// Runs: docs/a.md ${S}1, ${S}1.2 and ${S}A.1; docs/a.md ${S}1–${S}A."
expect_ok "// Wrapped: docs/a.md
// ${S}A.1 and RFC 7253 ${S}4.2–${S}4.3."
expect_ok "# docs/a.md exists"
expect_error "// docs/a.md ${S}3 is missing." "docs/a.md has no section ${S}3"
expect_error "// docs/a.md ${S}1, ${S}A.2 half missing." "has no section ${S}A.2"
expect_error "// docs/nope.md ${S}1" "docs/nope.md does not exist"
expect_error "// see docs/nope.md" "docs/nope.md does not exist"
expect_error "// (spec ${S}5.6)" "outside the repository"
expect_error "// Spec ${S}11 timeline" "outside the repository"
expect_error "// (mosh-""protocol.md)" "outside the repository"
expect_error "// /work/""shared/notes/x.md" "outside the repository"
expect_error "// a bare ${S}4.2 here" "bare ${S}4.2"
# A bare section inside a doc resolves in that doc.
tree "$T/doc" "// nothing"
printf 'Bad: %s9.\n' "$S" >>"$T/doc/docs/a.md"
if python3 "$CHECK" "$T/doc" >"$T/out"; then fail "accepted a bare ${S}9 in docs/a.md"; fi
grep -q "docs/a.md:.*no section ${S}9" "$T/out" || { cat "$T/out"; fail "no error for ${S}9"; }

# The real tree: the runfile resolves to the source checkout this test was
# built from (the test is tagged local, so it reads that checkout directly).
root=$(dirname "$(dirname "$(readlink -f docs/protocol.md)")")
[ -f "$root/WORKSPACE" ] || fail "no source tree at $root"
python3 "$CHECK" "$root"
