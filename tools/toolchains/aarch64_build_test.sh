#!/usr/bin/env bash
# The cross-compiled aarch64 moshx (//:moshx_aarch64) against the x86-64 one
# (//:moshx): `file` sees a statically linked aarch64 executable, and under
# qemu-aarch64-static (run explicitly: no binfmt_misc needed) it prints the
# same --version line, modulo the build id, which is each binary's own GNU
# build id, and the same --help.
set -euo pipefail
X86=cmd/moshx
ARM=moshx_aarch64
QEMU=/usr/bin/qemu-aarch64-static
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$QEMU" ] || fail "no $QEMU (tools/setup --aarch64 installs qemu-user-static)"

arm_file=$(file -L "$ARM")
echo "$arm_file"
case $arm_file in *"ELF 64-bit LSB executable, ARM aarch64"*"statically linked"*) ;;
  *) fail "not a statically linked aarch64 executable" ;; esac
x86_file=$(file -L "$X86")
case $x86_file in *"ELF 64-bit LSB executable, x86-64"*"statically linked"*) ;;
  *) fail "the x86-64 build is not what it should be: $x86_file" ;; esac

build_id() { readelf -n "$1" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p'; }
arm_id=$(build_id "$ARM")
x86_id=$(build_id "$X86")
[ ${#arm_id} = 40 ] && [ ${#x86_id} = 40 ] || fail "build ids '$arm_id' / '$x86_id'"
[ "$arm_id" != "$x86_id" ] || fail "both builds have build id $arm_id"

arm_version=$("$QEMU" "$ARM" --version) || fail "aarch64 --version failed under qemu"
x86_version=$("$X86" --version)
echo "aarch64: $arm_version"
echo "x86-64:  $x86_version"
[[ $arm_version == "moshx "*" (build ${arm_id:0:12}) libvterm "* ]] || fail "aarch64 --version: '$arm_version'"
[[ $x86_version == "moshx "*" (build ${x86_id:0:12}) libvterm "* ]] || fail "x86-64 --version: '$x86_version'"
[ "${arm_version% (build *}" = "${x86_version% (build *}" ] || fail "different versions"
[ "${arm_version#*) }" = "${x86_version#*) }" ] || fail "different libvterm versions"

"$QEMU" "$ARM" --help >"$TEST_TMPDIR/arm.help" || fail "aarch64 --help failed under qemu"
"$X86" --help >"$TEST_TMPDIR/x86.help"
diff -u "$TEST_TMPDIR/x86.help" "$TEST_TMPDIR/arm.help" || fail "--help differs"
echo PASS
