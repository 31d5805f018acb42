# mosh_interop_lib.sh — the session script the mosh interop tests play on
# every client kind (sourced after e2e_lib.sh; issue 7).
#
#   interop_bin_dir              a directory with mosh-server and mosh-client
#                                symlinks to moshx (the personalities)
#   interop_start_server SERVER  run SERVER new ... (real or moshx) with a
#                                bash prompt "srv$ "; sets SRV_PORT, SRV_KEY, tracks the pid
#   interop_script NAME [RELAY_PID]
#                                typing and output, Ctrl-C during a flood,
#                                window resize, 256 and 24-bit colours, CJK,
#                                emoji and a combining accent; with the pid
#                                of a tools/netem udp_relay, also a client
#                                address change (SIGUSR1: the relay rebinds)
#   interop_snapshot NAME        the pane with attributes, plus the cursor
#   interop_exit NAME            `exit` in the shell: the client must end with status 0

interop_bin_dir() {
  local d=$E2E_DIR/bin
  mkdir -p "$d"
  ln -sf "$(realpath cmd/moshx)" "$d/mosh-server"
  ln -sf "$(realpath cmd/moshx)" "$d/mosh-client"
  echo "$d"
}

# Ports: each test gets its own range so parallel tests do not collide.
interop_start_server() {
  local server=$1 ports=$2 out
  out=$(env LANG=C.UTF-8 "$server" new -i 127.0.0.1 -p "$ports" -c 256 -- \
        /usr/bin/env PS1='srv$ ' /bin/bash --norc --noprofile \
        </dev/null 2>"$E2E_DIR/server.err") ||
    fail "$server failed: $(cat "$E2E_DIR/server.err")"
  read -r _ _ SRV_PORT SRV_KEY <<<"$(echo "$out" | grep '^MOSH CONNECT')"
  [ -n "$SRV_PORT" ] && [ ${#SRV_KEY} -eq 22 ] || fail "no MOSH CONNECT line in: $out"
  local pid
  pid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$E2E_DIR/server.err")
  [ -n "$pid" ] || fail "no detach message: $(cat "$E2E_DIR/server.err")"
  e2e_track_pid "$pid"
}

interop_run() {  # NAME COMMAND: type it and press Enter
  tmux_type "$1" "$2"
  tmux_keys "$1" Enter
}

interop_script() {
  local name=$1 relay_pid=${2:-}
  wait_for_screen "$name" 'srv\$' 20
  interop_run "$name" 'echo typed-$((6*7))'
  wait_for_screen "$name" '^typed-42' 10
  # A flood, interrupted: the prompt must come back.
  interop_run "$name" 'seq 1 50000000'
  sleep 1.5
  tmux_keys "$name" C-c
  interop_run "$name" 'clear; echo flood-$((1+1))-done'
  wait_for_screen "$name" '^flood-2-done' 20
  if [ -n "$relay_pid" ]; then  # the client's datagrams now come from a new port
    kill -USR1 "$relay_pid"
  fi
  interop_run "$name" 'echo roamed-$((3*3))'
  wait_for_screen "$name" '^roamed-9' 20
  tmux_cmd resize-window -t "$name" -x 100 -y 30
  interop_run "$name" 'echo size=$(tput cols)x$(tput lines)'
  wait_for_screen "$name" '^size=100x30' 10
  interop_run "$name" \
    "printf '\\e[38;5;196mR256\\e[0m \\e[48;5;21;38;5;226mY\\e[0m \\e[38;2;10;200;30mTRUE\\e[0m \\e[1;4;35mB\\e[0m 漢字かな 😀👍 e\\xcc\\x81!\\n'"
  wait_for_screen "$name" 'TRUE.*e.!' 10
  interop_run "$name" 'for i in 1 2 3; do echo "line $i 日本"; done; echo script-end'
  wait_for_screen "$name" '^script-end' 10
  sleep 1  # let any late frame land before the snapshot
}

interop_snapshot() {
  tmux_cmd capture-pane -p -e -t "$1"
  tmux_cmd display-message -p -t "$1" 'cursor=#{cursor_x},#{cursor_y} size=#{pane_width}x#{pane_height}'
}

interop_exit() {
  interop_run "$1" 'exit'
  wait_for_dead_pane "$1" 20
  local status
  status=$(tmux_pane_status "$1")
  [ "$status" = 0 ] || fail "client in '$1' exited with status '$status'"
}

# Fails unless the two snapshots are identical (shows the difference).
interop_compare() {
  local a=$1 b=$2
  if ! diff -u "$a" "$b" >&2; then
    fail "screens differ between $(basename "$a") and $(basename "$b")"
  fi
  echo "identical screens ($(wc -l <"$a") lines):"
  cat -v "$a"
}
