#!/usr/bin/env bash
# The --run_under of --config=aarch64: runs an aarch64 executable (a test
# binary built by the cross toolchain) under Debian's qemu-aarch64-static, so
# no binfmt_misc registration is needed. Anything else (a test script) runs as
# it is. Usage: qemu_aarch64.sh PROGRAM [ARGS...]
set -u
QEMU=/usr/bin/qemu-aarch64-static
[ $# -gt 0 ] || { echo "usage: qemu_aarch64.sh PROGRAM [ARGS...]" >&2; exit 2; }
# ELF magic, then e_machine (offset 18, little-endian) 183 = EM_AARCH64.
if [ "$(head -c 4 "$1" 2>/dev/null)" = $'\x7fELF' ] &&
    [ "$(od -An -j18 -N2 -tu2 "$1" | tr -d ' ')" = 183 ]; then
  if [ ! -x "$QEMU" ]; then
    echo "qemu_aarch64.sh: $QEMU is missing: run tools/setup --aarch64 (Debian's qemu-user-static)" >&2
    exit 127
  fi
  exec "$QEMU" "$@"
fi
exec "$@"
