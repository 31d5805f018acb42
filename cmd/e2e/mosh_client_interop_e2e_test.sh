#!/usr/bin/env bash
# Real mosh-client (Debian's mosh 1.4) against moshx acting as mosh-server
# (the personality: a `mosh-server` symlink to moshx). The same session script
# (typing, Ctrl-C during a flood, resize, 256/24-bit colours, CJK, emoji,
# combining accent) runs on the real mosh-client — through a UDP relay that
# changes the client's address mid-session — and on moshx's own client in mosh
# mode (the `mosh-client` personality); the two screens must be identical
# (every cell's text and SGR, and which lines wrapped), and the shell's exit
# must end both clients with status 0. The issue 17 screens (colours,
# attributes, wrapped lines, conceal, lone combining marks) must also equal
# what the real mosh-server shows of them.
source tools/testing/e2e_lib.sh
source cmd/e2e/mosh_interop_lib.sh
e2e_init
[ -x /usr/bin/mosh-client ] || fail "Debian's mosh is not installed (apt-get install mosh)"
bin=$(interop_bin_dir)
RELAY=$(realpath tools/netem/udp_relay)

# 1. The real mosh-client, through the relay (which rebinds on request).
interop_start_server "$bin/mosh-server" 62301:62400
"$RELAY" --server-port "$SRV_PORT" --max-seconds 80 >"$E2E_DIR/relay.out" 2>&1 &
relay_pid=$!
e2e_track_pid $relay_pid
for _ in $(seq 50); do grep -q ready "$E2E_DIR/relay.out" && break; sleep 0.1; done
relay_port=$(sed -n 's/.*listen=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
[ -n "$relay_port" ] || fail "relay did not start: $(cat "$E2E_DIR/relay.out")"
interop_client_start real 80 24 env MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8 \
  MOSH_PREDICTION_DISPLAY=never /usr/bin/mosh-client 127.0.0.1 "$relay_port"
interop_script real "$E2E_DIR/real.screen" "$relay_pid"
grep -q 'rebind ok' "$E2E_DIR/relay.out" || fail "the relay did not rebind: $(cat "$E2E_DIR/relay.out")"
interop_exit real
interop_server_gone

# 2. moshx's client as mosh-client, same server kind, same script.
interop_start_server "$bin/mosh-server" 62301:62400
interop_client_start mx 80 24 env MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8 \
  MOSH_PREDICTION_DISPLAY=never "$bin/mosh-client" 127.0.0.1 "$SRV_PORT"
interop_script mx "$E2E_DIR/moshx.screen"
interop_exit mx
interop_server_gone

# 3. The reference: the real mosh-server and mosh-client, the issue 17 screens
# only. moshx as mosh-server must keep what the real one keeps of them: every
# cell's SGR, wrapped lines, concealed text, lone combining marks.
interop_start_server /usr/bin/mosh-server 62301:62400
interop_client_start ref 80 24 env MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8 \
  MOSH_PREDICTION_DISPLAY=never /usr/bin/mosh-client 127.0.0.1 "$SRV_PORT"
interop_fidelity_script ref "$E2E_DIR/reference.fidelity"
interop_exit ref
interop_server_gone

grep -q '漢字' "$E2E_DIR/real.screen" || fail "no CJK on the real client's screen"
grep -q $'\e\\[38;2;10;200;30m' "$E2E_DIR/real.screen" || fail "no 24-bit colour on the real client"
interop_compare "$E2E_DIR/real.screen" "$E2E_DIR/moshx.screen"
interop_compare "$E2E_DIR/reference.fidelity" "$E2E_DIR/real.screen.fidelity"
echo PASS
