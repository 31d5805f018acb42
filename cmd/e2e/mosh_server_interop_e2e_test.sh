#!/usr/bin/env bash
# moshx's client against the real mosh-server (Debian's mosh 1.4). The same
# session script (typing, Ctrl-C during a flood, resize, 256/24-bit colours,
# CJK, emoji, combining accent) runs on `moshx client --mode mosh` — through a
# UDP relay that changes the client's address mid-session — and on the real
# mosh-client, each against its own real mosh-server; the two screens must be
# identical (every cell's text and SGR, and which lines wrapped), and the
# shell's exit must end both clients with status 0.
source tools/testing/e2e_lib.sh
source cmd/e2e/mosh_interop_lib.sh
e2e_init
[ -x /usr/bin/mosh-server ] || fail "Debian's mosh is not installed (apt-get install mosh)"
MOSHX=$(realpath cmd/moshx)
RELAY=$(realpath tools/netem/udp_relay)

# 1. moshx client (mosh mode), through the relay (which rebinds on SIGUSR1).
interop_start_server /usr/bin/mosh-server 62401:62500
"$RELAY" --server-port "$SRV_PORT" --max-seconds 80 >"$E2E_DIR/relay.out" 2>&1 &
relay_pid=$!
e2e_track_pid $relay_pid
for _ in $(seq 50); do grep -q ready "$E2E_DIR/relay.out" && break; sleep 0.1; done
relay_port=$(sed -n 's/.*listen=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
[ -n "$relay_port" ] || fail "relay did not start: $(cat "$E2E_DIR/relay.out")"
interop_client_start mx 80 24 env MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8 \
  "$MOSHX" client --mode mosh --predict never 127.0.0.1 "$relay_port"
interop_script mx "$E2E_DIR/moshx.screen" "$relay_pid"
grep -q 'rebind ok' "$E2E_DIR/relay.out" || fail "the relay did not rebind: $(cat "$E2E_DIR/relay.out")"
interop_exit mx
interop_server_gone

# 2. The real mosh-client, same server kind, same script.
interop_start_server /usr/bin/mosh-server 62401:62500
interop_client_start real 80 24 env MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8 \
  MOSH_PREDICTION_DISPLAY=never /usr/bin/mosh-client 127.0.0.1 "$SRV_PORT"
interop_script real "$E2E_DIR/real.screen"
interop_exit real
interop_server_gone

grep -q '漢字' "$E2E_DIR/moshx.screen" || fail "no CJK on moshx's screen"
grep -q $'\e\\[38;2;10;200;30m' "$E2E_DIR/moshx.screen" || fail "no 24-bit colour on moshx's screen"
interop_compare "$E2E_DIR/real.screen" "$E2E_DIR/moshx.screen"
echo PASS
