#!/usr/bin/env bash
# `moshx router` with two real users (docs/router.md §6), as root:
#   1. a router on a free loopback UDP port drops root; the session hosts of
#      two users (moshx-e2e and moshx-boot) started with --router use its
#      port: every CONNECT line names it, `ss` shows one UDP socket on it (the
#      router's) and none in either host, and --list says "moshx router";
#   2. real clients type into both users' sessions through that one port,
#      and user A's `moshx connect` over SSH (the sshd fixture) lands in the
#      same host and port;
#   3. user A cannot claim or forget user B's connection id on the router's
#      socket (refused "another user"), while a fresh id of A's own is granted;
#      B's session types on afterwards;
#   4. the router is stopped and started again mid-session: what B typed
#      while it was down arrives, and both users type on within a few seconds;
#   5. `serve --attach` through the router: a fresh id on the same port, the
#      superseded client exits 0, the new one types.
# Everything started here (router, hosts, sessions, sshd) is ended by PID.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init
[ "$(id -u)" -eq 0 ] || fail "needs root (a router that drops root, two users)"
USER_A=moshx-e2e
USER_B=moshx-boot
sshd_start "$USER_A"       # takes A's account lock
sshd_lock_account "$USER_B"
sshd_ensure_user "$USER_B"

world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"
MOSHX=$world/moshx
SOCK=$world/run/router.sock
# Each user's runtime directory of this test's own (a host of this build left
# by another test in /tmp/moshx-UID must not be the one used).
for u in "$USER_A" "$USER_B"; do
  install -d -m 700 -o "$u" "$world/xdg-$u"
done

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$2" "$1"; }
as_user() {  # as_user USER CMD...: CMD as USER with its own runtime directory
  local u=$1
  shift
  runuser -u "$u" -- env XDG_RUNTIME_DIR="$world/xdg-$u" HOME="$(getent passwd "$u" | cut -d: -f6)" "$@"
}

# A free UDP port (not 60001: a real router may own it).
port=
for p in $(shuf -i 61000-61999 -n 50); do
  [ -z "$(ss -Huln "sport = :$p")" ] && { port=$p; break; }
done
[ -n "$port" ] || fail "no free UDP port in 61000-61999"

start_router() {
  "$MOSHX" router --port "$port" --bind 127.0.0.1 --socket "$SOCK" 2>>"$E2E_DIR/router.err" &
  router_pid=$!
  e2e_track_pid "$router_pid"
  for _ in $(seq 50); do
    [ -n "$(ss -Hulnp "sport = :$port" | grep "pid=$router_pid,")" ] && [ -S "$SOCK" ] && return 0
    sleep 0.1
  done
  fail "the router did not start: $(cat "$E2E_DIR/router.err")"
}
start_router
[ "$(ps -o user= -p "$router_pid")" != root ] || fail "the router still runs as root"

declare -A KEY CID PID HOST
new_session() {  # new_session TAG USER: a bash session of USER through the router
  local tag=$1 u=$2 out json
  out=$(as_user "$u" "$MOSHX" serve --router "$SOCK" --json -- \
        /usr/bin/env PS1="$tag\$ " /bin/bash --norc --noprofile 2>"$E2E_DIR/serve.err") ||
    fail "moshx serve as $u failed: $(cat "$E2E_DIR/serve.err")"
  json=$(echo "$out" | grep '^{')
  [ "$(json_field port "$json")" = "$port" ] || fail "session $tag of $u not on the router's port $port: $out"
  echo "$out" | grep -q "^MOSHX CONNECT $port " || fail "CONNECT line without the router's port: $out"
  KEY[$tag]=$(json_field key "$json")
  CID[$tag]=$(json_field connection_id "$json")
  PID[$tag]=$(json_field pid "$json")
  HOST[$tag]=$(json_field host_pid "$json")
  e2e_track_pid "${PID[$tag]}"
  e2e_track_pid "${HOST[$tag]}"
}
new_session a "$USER_A"
new_session b "$USER_B"
[ "${HOST[a]}" != "${HOST[b]}" ] || fail "both users in one host"
[ "$(ps -o user= -p "${HOST[a]}")" = "$USER_A" ] || fail "host a does not run as $USER_A"
[ "$(ps -o user= -p "${HOST[b]}")" = "$USER_B" ] || fail "host b does not run as $USER_B"

# 1. One UDP socket on the port, the router's; none in the hosts or sessions.
sockets=$(ss -Hulnp "sport = :$port")
[ "$(echo "$sockets" | grep -c .)" = 1 ] || fail "expected one UDP socket on $port: $sockets"
echo "$sockets" | grep -q "pid=$router_pid," || fail "the socket on $port is not the router's: $sockets"
for pid in "${HOST[a]}" "${HOST[b]}" "${PID[a]}" "${PID[b]}"; do
  ss -Hulnp | grep -q "pid=$pid," && fail "process $pid has a UDP socket of its own"
done
for u in "$USER_A" "$USER_B"; do
  as_user "$u" "$MOSHX" serve --list | grep -qx "UDP port $port (moshx router at $SOCK)" ||
    fail "--list of $u does not name the router: $(as_user "$u" "$MOSHX" serve --list)"
  as_user "$u" "$MOSHX" serve --list --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["port"] == int(sys.argv[1]) and j["router"] == sys.argv[2], j' "$port" "$SOCK" ||
    fail "--list --json of $u: $(as_user "$u" "$MOSHX" serve --list --json)"
done

# 2. Real clients type into both users' sessions through the one port.
client() {  # client TAG [WINDOW]: a real moshx client (exit status kept)
  tmux_start_with_status "${2:-c$1}" 80 24 env "MOSH_KEY=${KEY[$1]}" "$MOSHX" client \
    --connection-id "${CID[$1]}" 127.0.0.1 "$port"
}
client a
client b
wait_for_screen ca '^a\$' 15
wait_for_screen cb '^b\$' 15
tmux_type ca 'echo "a is $(id -un) $((6*7))"'
tmux_keys ca Enter
tmux_type cb 'echo "b is $(id -un) $((6*7))"'
tmux_keys cb Enter
wait_for_screen ca "^a is $USER_A 42" 10
wait_for_screen cb "^b is $USER_B 42" 10
# User A over SSH: the remote serve joins A's host, so the router's port.
tmux_start ssh 80 24 env TERM=xterm-256color LANG=C.UTF-8 "$MOSHX" connect --ssh "$E2E_SSH" \
  --server "env XDG_RUNTIME_DIR=$world/xdg-$USER_A $MOSHX" "$E2E_SSH_DEST" -- \
  /usr/bin/env PS1='ssh$ ' /bin/bash --norc --noprofile
wait_for_screen ssh '^ssh\$' 20
tmux_type ssh 'echo "ssh is $(id -un) $((6*7))"'
tmux_keys ssh Enter
wait_for_screen ssh "^ssh is $USER_A 42" 10
as_user "$USER_A" "$MOSHX" serve --list --json | python3 -c '
import json, sys
assert len(json.load(sys.stdin)["sessions"]) == 2' ||
  fail "the SSH session is not in $USER_A's host: $(as_user "$USER_A" "$MOSHX" serve --list)"
ss -Hulnp | grep -q "pid=${HOST[a]}," && fail "host a bound a UDP socket for the SSH session"

# 3. User A on the router's socket: B's id is refused, forgetting it does
# nothing, an id of A's own is granted.
cat >"$world/claim.py" <<'PY'
import os, socket, sys
path, theirs = sys.argv[1], int(sys.argv[2], 16)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
s.settimeout(5)
assert s.recv(4096)[:1] == b"H", "no hello"
def claim(i):
    s.send(b"C" + i.to_bytes(8, "big"))
    return s.recv(4096)
answer = claim(theirs)
assert answer == b"N" + theirs.to_bytes(8, "big") + b"\x01", answer
s.send(b"F" + theirs.to_bytes(8, "big"))  # not A's to forget: ignored
mine = int.from_bytes(os.urandom(8), "big") | 1
answer = claim(mine)
assert answer == b"A" + mine.to_bytes(8, "big"), answer
print("refused", "%016x" % theirs, "granted", "%016x" % mine)
PY
chmod 644 "$world/claim.py"
as_user "$USER_A" python3 "$world/claim.py" "$SOCK" "${CID[b]}" ||
  fail "user $USER_A could claim or was not answered for $USER_B's id ${CID[b]}"
tmux_type cb 'echo "b still $((6*7))"'
tmux_keys cb Enter
wait_for_screen cb '^b still 42' 10

# 4. The router restarts mid-session. B types while it is down.
kill "$router_pid"
for _ in $(seq 50); do kill -0 "$router_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$router_pid" 2>/dev/null && fail "the router did not stop on SIGTERM"
tmux_type cb 'echo "typed while down $((6*7))"'
tmux_keys cb Enter
sleep 1
start_router
restarted=$(date +%s.%N)
wait_for_screen cb '^typed while down 42' 10
recovered_b=$(date +%s.%N)
tmux_type ca 'echo "a after restart $((6*7))"'
tmux_keys ca Enter
wait_for_screen ca '^a after restart 42' 10
recovered_a=$(date +%s.%N)
tmux_type ssh 'echo "ssh after restart $((6*7))"'
tmux_keys ssh Enter
wait_for_screen ssh '^ssh after restart 42' 10
awk -v r="$restarted" -v b="$recovered_b" -v a="$recovered_a" 'BEGIN {
  printf "after the router restart: b'"'"'s typed-ahead line in %.2f s, a'"'"'s new line in %.2f s\n", b - r, a - r }'
[ "$(ss -Hulnp "sport = :$port" | grep -c .)" = 1 ] || fail "more than one socket on $port after the restart"

# 5. B attaches to its session again: fresh key and id, the router's port.
json=$(as_user "$USER_B" "$MOSHX" serve --attach 1 --json | grep '^{') || fail "--attach as $USER_B failed"
[ "$(json_field port "$json")" = "$port" ] || fail "attach answered another port: $json"
[ "$(json_field connection_id "$json")" != "${CID[b]}" ] || fail "attach kept the old id"
KEY[b]=$(json_field key "$json")
CID[b]=$(json_field connection_id "$json")
client b nb
wait_for_screen nb '^typed while down 42' 15
[ "$(wait_for_status cb 15)" = 0 ] || fail "the superseded client did not exit 0"
tmux_type nb 'echo "attached $((6*7))"'
tmux_keys nb Enter
wait_for_screen nb '^attached 42' 10

# Clean up: the sessions end (so do the hosts), then the router.
tmux_type ssh 'exit'
tmux_keys ssh Enter
for tag in a b; do
  u=$USER_A
  [ "$tag" = b ] && u=$USER_B
  as_user "$u" "$MOSHX" serve --kill 1 >/dev/null || fail "--kill as $u failed"
done
for pid in "${HOST[a]}" "${HOST[b]}"; do
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "host $pid did not exit after its last session"
done
kill "$router_pid"
echo PASS
