#!/usr/bin/env bash
# usage: tools/benchmark/ssh_path_bench.sh [--rtts 50,200] [--keys 12] [--ctrl-c 2] [ssh_path.py options]
#
# Issue 15's benchmark (docs/ssh-path.md §6): keystroke echo and
# Ctrl-C-to-prompt of `moshx connect --transport ssh` beside `--transport
# udp`, interleaved in one run, at 50 and 200 ms RTT. Needs root: two network
# namespaces (client, server) joined by tools/netem's TUN relay, which delays
# TCP (so ssh) and UDP alike, and an sshd in the server's (netns_lib.sh).
# JSON lines on stdout, a table on stderr; tools/benchmark/ssh_path.py says
# what is measured and how.
#
# By hand, from the repository root (under `nice -n 10`, about 50 s):
#   bazel build -c opt //cmd:moshx //tools/netem:tun_relay
#   nice -n 10 tools/benchmark/ssh_path_bench.sh
# MOSHX and NETNS_RELAY_BIN override the binaries (default: the runfiles
# in a Bazel test, else `bazel info -c opt bazel-bin`).
set -u
here=$(dirname "$0")
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
source tools/testing/netns_lib.sh

if [ -n "${TEST_SRCDIR:-}" ]; then  # a Bazel test: the runfiles
  bin=.
else
  bin=$(bazel info -c opt bazel-bin 2>/dev/null) || bin=.bazel/bin
fi
MOSHX=${MOSHX:-$bin/cmd/moshx}
NETNS_RELAY_BIN=${NETNS_RELAY_BIN:-$bin/tools/netem/tun_relay}
[ -x "$MOSHX" ] || { echo "no moshx at $MOSHX (bazel build -c opt //cmd:moshx)" >&2; exit 2; }
[ -x "$NETNS_RELAY_BIN" ] ||
  { echo "no tun_relay at $NETNS_RELAY_BIN (bazel build //tools/netem:tun_relay)" >&2; exit 2; }

e2e_init
netns_init
# Sessions of the test user on the server: no other test's meanwhile.
sshd_lock_account "${NETNS_SSH_USER:-moshx-e2e}"
world=$(sshd_world_dir)
MOSHX=$(realpath "$MOSHX") NETNS_RELAY_BIN=$(realpath "$NETNS_RELAY_BIN")
cp "$MOSHX" "$world/moshx"
chmod 755 "$world/moshx"

netns_create client server
netns_relay client server
netns_sshd server

/usr/bin/python3 "$here/ssh_path.py" --netns "${NETNS_NAME[client]}" \
  --ssh "$NETNS_SSH" --host server --moshx "$world/moshx" --server "$world/moshx" \
  --relay "$NETNS_RELAY_BIN" --relay-sock "$NETNS_RELAY_SOCK" "$@"
