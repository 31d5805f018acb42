#!/usr/bin/env bash
# A session over an emulated bad link (200 ms RTT, 10% loss each way) through
# tools/netem's UDP relay: it works; freezing the client (kill -STOP) for 30 s
# and resuming recovers the current screen; changing the client's port (the
# relay rebinds its upstream socket: the server sees a new address) keeps the
# session.
source tools/testing/e2e_lib.sh
e2e_init
MOSHX=$(realpath cmd/moshx)
RELAY=$(realpath tools/netem/udp_relay)

out=$($MOSHX serve --bind 127.0.0.1 --port-range 62001:62100 --json -- \
      /usr/bin/env PS1='srv$ ' /bin/bash --norc --noprofile 2>"$E2E_DIR/serve.err") ||
  fail "moshx serve failed: $(cat "$E2E_DIR/serve.err")"
read -r _ _ port key connid <<<"$(echo "$out" | grep '^MOSHX CONNECT')"
server_pid=$(echo "$out" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
[ -n "$port" ] && [ -n "$server_pid" ] || fail "no CONNECT/JSON line in: $out"
e2e_track_pid "$server_pid"

"$RELAY" --server-port "$port" --control-port 0 --delay-ms 100 --loss 0.10 --seed 11 \
  --max-seconds 120 >"$E2E_DIR/relay.out" 2>&1 &
e2e_track_pid $!
for _ in $(seq 50); do grep -q ready "$E2E_DIR/relay.out" && break; sleep 0.1; done
relay_port=$(sed -n 's/.*listen=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
control_port=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
[ -n "$relay_port" ] || fail "relay did not start: $(cat "$E2E_DIR/relay.out")"

tmux_start_with_status c 80 24 env MOSH_KEY="$key" TERM=xterm-256color \
  "$MOSHX" client --connection-id "$connid" 127.0.0.1 "$relay_port"
wait_for_screen c 'srv\$' 20
tmux_type c 'echo link-$((40+2))'
tmux_keys c Enter
wait_for_screen c '^link-42' 20

# Freeze the client for 30 s while the screen changes on the server side.
client_pid=$(pgrep -P "$(tmux_pane_pid c)" -f "moshx client" | head -1)  # sh -> moshx
[ -n "$client_pid" ] || client_pid=$(pgrep -f "^$MOSHX client --connection-id $connid" | head -1)
[ -n "$client_pid" ] || fail "client pid not found"
kill -STOP "$client_pid"
# While frozen, the server keeps running: make it print something by itself.
tmux_type c 'sleep 2; echo after-freeze'   # typed now, delivered after resume
sleep 30
kill -CONT "$client_pid"
tmux_keys c Enter
wait_for_screen c '^after-freeze' 30

# The client "roams": its datagrams now come from a new source port.
echo rebind >/dev/udp/127.0.0.1/"$control_port"
tmux_type c 'echo roamed-ok'
tmux_keys c Enter
wait_for_screen c '^roamed-ok' 30

tmux_type c 'exit'
tmux_keys c Enter
status=$(wait_for_status c 30)
[ "$status" = 0 ] || fail "client exit status $status"
echo PASS
