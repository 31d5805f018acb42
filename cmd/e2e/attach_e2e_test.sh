#!/usr/bin/env bash
# Attaching to a session that outlived its client (issue 13, docs/sessions.md),
# through a real sshd on loopback and the remote user's session host:
#   1. vim runs in a session started with `moshx connect --name`; its client is
#      killed with SIGKILL; `moshx connect --attach NAME` from another tmux
#      window (another source port; --bootstrap auto, which uploads moshx,
#      and the attach in one SSH connection) shows the same vim screen with
#      the cursor in place; typing and :wq save the file; the session ends,
#      the client exits 0.
#   2. Two clients in turn: the first (a `moshx client` behind a UDP relay
#      that records what it sends) is told "session attached from <address>"
#      and exits 0 when `moshx connect --attach` takes the session; its
#      recorded datagrams, replayed from a fresh port once its id retired,
#      are all counted drops in the host (`serve --list --json`'s counters) and
#      change nothing: the screen stays, the session's client address stays
#      the new client's (an accepted datagram would have moved it), and the
#      new client types on.
#   3. `moshx ls HOST --json` lists the session; `moshx kill HOST NAME` ends it;
#      `moshx connect --attach` of an unknown name is refused with the list.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for sshd"; exit 0; }
sshd_start
world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"
M=$world/moshx
remote() { $E2E_SSH "$E2E_SSH_DEST" "$@"; }
tag=$$
file=attach-e2e-$tag.txt
had_local=0
[ -e "$E2E_SSH_HOME/.local" ] && had_local=1
cleanup_remote() {
  for n in "vim$tag" "turn$tag"; do remote "$M" serve --kill "$n" >/dev/null 2>&1; done
  remote rm -f "$file" >/dev/null 2>&1
  [ "$had_local" = 1 ] || rm -rf "$E2E_SSH_HOME/.local"  # the bootstrapped copy below
}
trap 'cleanup_remote; e2e_cleanup' EXIT

connect() {  # connect NAME ARGS...: moshx connect in tmux window NAME, status kept
  local name=$1; shift
  tmux_start_with_status "$name" 80 24 env TERM=xterm-256color LANG=C.UTF-8 "$M" connect \
    --bootstrap never --ssh "$E2E_SSH" --server "$M" "$@"
}
client_pid() {  # the moshx process under window NAME's sh
  pgrep -P "$(tmux_pane_pid "$1")" | head -1
}
cursor() { tmux_cmd display-message -p -t "$1" '#{cursor_x},#{cursor_y}'; }

# 1. vim, SIGKILL, attach from another window.
connect a --name "vim$tag" "$E2E_SSH_DEST" -- vim -u NONE -N -i NONE "$file"
wait_for_screen a '"attach-e2e-.*\[New\]' 20
tmux_type a 'ifirst line from A'
tmux_keys a Enter
tmux_type a 'second line, cursor ends here'
tmux_keys a Escape
wait_for_screen a '^second line, cursor ends here' 10
sleep 1  # the cursor settles after Escape
screen_a=$(tmux_screen a)
cursor_a=$(cursor a)
pid_a=$(client_pid a)
[ -n "$pid_a" ] || fail "no client process under window a"
kill -9 "$pid_a"
wait_for_status a 10 >/dev/null

# B attaches with the defaults (--bootstrap auto, --server moshx): the
# bootstrap copies moshx to the remote and the attach request follows in the
# same one SSH connection (a password would be typed once).
printf '#!/bin/sh\necho "$*" >>%s\nexec "$@"\n' "$E2E_DIR/ssh-calls" >"$E2E_DIR/counting-ssh"
chmod 755 "$E2E_DIR/counting-ssh"
tmux_start_with_status b 80 24 env TERM=xterm-256color LANG=C.UTF-8 "$M" connect \
  --ssh "$E2E_DIR/counting-ssh $E2E_SSH" --attach "vim$tag" "$E2E_SSH_DEST"
wait_for_screen b '^second line, cursor ends here' 20
sleep 1
screen_b=$(tmux_screen b)
[ "$screen_a" = "$screen_b" ] ||
  fail "the attached screen differs: $(diff <(echo "$screen_a") <(echo "$screen_b"))"
[ "$(cursor b)" = "$cursor_a" ] || fail "cursor at $(cursor b), was $cursor_a before the attach"
tmux_type b 'a, typed in B'
tmux_keys b Escape
tmux_type b ':wq'
tmux_keys b Enter
status=$(wait_for_status b 20)
[ "$status" = 0 ] || fail "the attached client exited with $status"
# (`ssh -G` only prints the configuration: no connection.)
[ "$(grep -vc -- ' -G ' "$E2E_DIR/ssh-calls")" = 1 ] ||
  fail "moshx connect --attach connected more than once: $(cat "$E2E_DIR/ssh-calls")"
saved=$(remote cat "$file")
expected=$'first line from A\nsecond line, cursor ends here, typed in B'
[ "$saved" = "$expected" ] || fail "file holds: $saved"

# 2. Two clients in turn; the first one's datagrams replayed.
json=$(remote "$M" serve --name "turn$tag" --json -- /bin/sh | grep '^{') ||
  fail "serve --name turn failed"
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$json" "$1"; }
port=$(field port)
relay_port=$(sshd_free_port)
python3 - "$relay_port" "$port" "$E2E_DIR/recorded" <<'PY' &
import os, select, socket, sys
listen, target, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
down.bind(("127.0.0.1", listen))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(("127.0.0.1", target))
client = None
with open(path, "wb") as out:
    while True:
        ready, _, _ = select.select([down, up], [], [])
        if down in ready:
            data, client = down.recvfrom(4096)
            out.write(len(data).to_bytes(2, "big") + data)
            out.flush()
            up.send(data)
        if up in ready:
            data = up.recv(4096)
            if client:
                down.sendto(data, client)
PY
e2e_track_pid $!
tmux_start_with_status c 80 24 sh -c '"$@" 2>"$0"' "$E2E_DIR/c.err" env "MOSH_KEY=$(field key)" \
  "$M" client --connection-id "$(field connection_id)" 127.0.0.1 "$relay_port"
wait_for_screen c '\$ *$' 20
tmux_type c 'echo typed-in-c-$((6*7))'
tmux_keys c Enter
wait_for_screen c '^typed-in-c-42' 10
connect d --attach "turn$tag" "$E2E_SSH_DEST"
wait_for_screen d '^typed-in-c-42' 20
status=$(wait_for_status c 20)
[ "$status" = 0 ] || fail "the superseded client exited with $status"
grep -Eq '^moshx: session attached from 127\.0\.0\.1:[0-9]+$' "$E2E_DIR/c.err" ||
  fail "the superseded client said: $(cat "$E2E_DIR/c.err")"
tmux_type d 'echo typed-in-d-$((7*7))'
tmux_keys d Enter
wait_for_screen d '^typed-in-d-49' 10
sleep 1
list() { remote "$M" serve --list --json; }
address_of() {
  python3 -c 'import json,sys
for s in json.load(sys.stdin)["sessions"]:
    if s["name"] == sys.argv[1]: print(s["last_client_address"], s["state"])' "turn$tag"
}
host_stat() {
  list | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"][sys.argv[1]])' "$1"
}
live_sessions() { list | python3 -c 'import json,sys
print(sum(s["state"] != "ended" for s in json.load(sys.stdin)["sessions"]))'; }
# The old id is retired (the superseded client acknowledged): one route per session.
for _ in $(seq 50); do [ "$(host_stat routes)" = "$(live_sessions)" ] && break; sleep 0.2; done
[ "$(host_stat routes)" = "$(live_sessions)" ] || fail "the superseded client's id was never retired"
before=$(list | address_of)
# The superseded client's last datagrams (sent as it exited) may still be in
# the Python relay under load and count as drops once they arrive: sample
# the counter once it has stood still for a second.
drops_before=$(host_stat dropped_unknown_id)
for _ in $(seq 10); do
  sleep 1
  now=$(host_stat dropped_unknown_id)
  [ "$now" = "$drops_before" ] && break
  drops_before=$now
done
screen_d=$(tmux_screen d)
replayed=$(python3 - "$E2E_DIR/recorded" "$port" <<'PY'
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
while data:
    size = int.from_bytes(data[:2], "big")
    s.sendto(data[2:2 + size], ("127.0.0.1", int(sys.argv[2])))
    data = data[2 + size:]
    n += 1
assert n >= 3, n
print(n)
PY
) || fail "replay failed"
sleep 2
after=$(list | address_of)
[ "$before" = "$after" ] || fail "the replay moved the session: '$before' -> '$after'"
drops=$(( $(host_stat dropped_unknown_id) - drops_before ))
[ "$drops" = "$replayed" ] || fail "$replayed datagrams replayed, $drops counted as drops"
case $after in *attached*) ;; *) fail "session state after the replay: $after" ;; esac
[ "$(tmux_screen d)" = "$screen_d" ] || fail "the replay changed the screen"
tmux_type d 'echo still-$((2*3))'
tmux_keys d Enter
wait_for_screen d '^still-6' 10

# 3. ls, kill, and an unknown name.
env TERM=xterm "$M" ls --ssh "$E2E_SSH" --server "$M" --json "$E2E_SSH_DEST" >"$E2E_DIR/ls.json" ||
  fail "moshx ls failed"
python3 -c 'import json,sys
names = [s["name"] for s in json.load(open(sys.argv[1]))["sessions"]]
assert sys.argv[2] in names, names' "$E2E_DIR/ls.json" "turn$tag" || fail "ls: $(cat "$E2E_DIR/ls.json")"
tmux_start_with_status e 100 24 sh -c '"$@" 2>"$0"' "$E2E_DIR/e.err" "$M" connect \
  --bootstrap never --ssh "$E2E_SSH" --server "$M" --attach "nosuch$tag" "$E2E_SSH_DEST"
status=$(wait_for_status e 20)
[ "$status" = 1 ] || fail "attach to an unknown session exited $status: $(cat "$E2E_DIR/e.err")"
grep -q "no session 'nosuch$tag'; sessions: .*turn$tag" "$E2E_DIR/e.err" ||
  fail "the refusal does not list the sessions: $(cat "$E2E_DIR/e.err")"
"$M" kill --ssh "$E2E_SSH" --server "$M" "$E2E_SSH_DEST" "turn$tag" >"$E2E_DIR/kill.out" 2>&1 ||
  fail "moshx kill failed: $(cat "$E2E_DIR/kill.out")"
grep -q "killed session .* (turn$tag)" "$E2E_DIR/kill.out" || fail "kill said: $(cat "$E2E_DIR/kill.out")"
status=$(wait_for_status d 20)
[ "$status" = 0 ] || fail "the client of a killed session exited with $status"
echo PASS
