#!/usr/bin/env bash
# The per-user session host (docs/sessions.md), with real processes:
#   1. ten `moshx serve` sessions of one user share the host's one UDP socket
#      (ss shows one), and `moshx serve --list --json` shows the ten with every
#      field of docs/sessions.md §2;
#   2. real moshx clients type into sessions through that socket; the list
#      then shows them attached, with the client's address, size and
#      foreground program;
#   3. `kill -SEGV` of one session process leaves the other nine working (a
#      client types into another session afterwards), and the dead one is
#      reported with its exit status; a stopped one (kill -STOP) stalls
#      nobody either;
#   4. --attach gives a session a fresh key and id: the old client is told
#      and exits 0, the new one gets the whole screen and types on;
#      a client taken over whose datagrams are replayed afterwards changes
#      nothing: they are counted drops in the host;
#   5. --kill ends a session;
#   6. another user gets "permission denied" for --list, --attach and --kill.
source tools/testing/e2e_lib.sh
e2e_init
MOSHX=$(realpath cmd/moshx)

# A runtime directory of this test's own (others may run moshx serve now),
# world-traversable like /run/user is for the 0700 directory in it.
XDG_RUNTIME_DIR=$(mktemp -d /tmp/moshx-e2e-run.XXXXXX)
chmod 755 "$XDG_RUNTIME_DIR"
E2E_WORLD_DIRS+=("$XDG_RUNTIME_DIR")
export XDG_RUNTIME_DIR

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$2" "$1"; }

declare -A PORT KEY CID PID
host_pid=
for i in $(seq 1 10); do
  out=$($MOSHX serve --bind 127.0.0.1 --name "s$i" --json -- \
        /usr/bin/env PS1="s$i\$ " /bin/bash --norc --noprofile 2>"$E2E_DIR/serve.err") ||
    fail "moshx serve $i failed: $(cat "$E2E_DIR/serve.err")"
  json=$(echo "$out" | grep '^{')
  echo "$out" | grep -q "^MOSHX SESSION $i s$i\$" || fail "no SESSION line in: $out"
  PORT[$i]=$(json_field port "$json")
  KEY[$i]=$(json_field key "$json")
  CID[$i]=$(json_field connection_id "$json")
  PID[$i]=$(json_field pid "$json")
  e2e_track_pid "${PID[$i]}"
  this_host=$(json_field host_pid "$json")
  [ -z "$host_pid" ] && { host_pid=$this_host; e2e_track_pid "$host_pid"; }
  [ "$this_host" = "$host_pid" ] || fail "session $i in another host ($this_host, not $host_pid)"
  [ "${PORT[$i]}" = "${PORT[1]}" ] || fail "session $i on port ${PORT[$i]}, session 1 on ${PORT[1]}"
done
port=${PORT[1]}

# 1. One UDP socket for all ten, held by the host.
sockets=$(ss -Hulnp "sport = :$port")
[ "$(echo "$sockets" | grep -c .)" = 1 ] || fail "expected one UDP socket on $port: $sockets"
echo "$sockets" | grep -q "pid=$host_pid," || fail "the socket on $port is not the host's: $sockets"
for i in $(seq 1 10); do
  ss -Hulnp | grep -q "pid=${PID[$i]}," && fail "session process $i has a UDP socket of its own"
done
$MOSHX serve --list --json >"$E2E_DIR/list.json" || fail "--list --json failed"
python3 - "$E2E_DIR/list.json" <<'PY' || fail "bad --list --json: $(cat "$E2E_DIR/list.json")"
import json, sys
sessions = json.load(open(sys.argv[1]))["sessions"]
assert len(sessions) == 10, len(sessions)
fields = {"id", "name", "created", "state", "last_contact", "last_client_address", "width",
          "height", "foreground_command", "pid"}
for n, s in enumerate(sessions, 1):
    assert fields <= set(s), set(s)
    assert s["id"] == n and s["name"] == "s%d" % n, s
    assert s["state"] == "detached" and s["last_contact"] is None, s
PY

client() {  # client NAME I: a real moshx client in tmux on session I
  tmux_start "$1" 80 24 env "MOSH_KEY=${KEY[$2]}" "$MOSHX" client --connection-id "${CID[$2]}" \
    127.0.0.1 "$port"
}

# 2. Clients type into sessions 3 and 7.
tmux_start_with_status c3 80 24 env "MOSH_KEY=${KEY[3]}" "$MOSHX" client \
  --connection-id "${CID[3]}" 127.0.0.1 "$port"
client c7 7
wait_for_screen c3 '^s3\$' 15
wait_for_screen c7 '^s7\$' 15
tmux_type c3 'echo three-$((6*7))'
tmux_keys c3 Enter
wait_for_screen c3 '^three-42' 10
tmux_type c7 'sleep 600'
tmux_keys c7 Enter
sleep 2.5  # status reports come at most once a second
$MOSHX serve --list --json >"$E2E_DIR/list.json" || fail "--list --json failed"
python3 - "$E2E_DIR/list.json" <<'PY' || fail "attached sessions not shown: $(cat "$E2E_DIR/list.json")"
import json, sys
s = {x["name"]: x for x in json.load(open(sys.argv[1]))["sessions"]}
for name in ("s3", "s7"):
    assert s[name]["state"] == "attached", s[name]
    assert s[name]["last_client_address"].startswith("127.0.0.1:"), s[name]
    assert s[name]["last_contact"] is not None, s[name]
    assert (s[name]["width"], s[name]["height"]) == (80, 24), s[name]
assert s["s3"]["foreground_command"] == "bash", s["s3"]
assert s["s7"]["foreground_command"] == "sleep", s["s7"]
assert s["s5"]["state"] == "detached", s["s5"]
PY

# 3. Session 7's process crashes; the others carry on.
kill -SEGV "${PID[7]}"
for _ in $(seq 50); do kill -0 "${PID[7]}" 2>/dev/null || break; sleep 0.1; done
kill -0 "${PID[7]}" 2>/dev/null && fail "session process 7 survived SIGSEGV"
kill -0 "$host_pid" || fail "the host died with session 7"
kill -9 "$(tmux_pane_pid c7)"  # its client would keep sending to the dead id (counted drops)
tmux_type c3 'echo still-$((6*7))'
tmux_keys c3 Enter
wait_for_screen c3 '^still-42' 10
client c5 5
wait_for_screen c5 '^s5\$' 15
tmux_type c5 'echo five-$((6*7))'
tmux_keys c5 Enter
wait_for_screen c5 '^five-42' 10
# A stopped (hung) session process, its client still sending to it, stalls
# nobody either (a full relay loses datagrams: session_host_test).
client c9 9
wait_for_screen c9 '^s9\$' 15
kill -STOP "${PID[9]}"
tmux_type c9 'echo typed-while-hung'
tmux_keys c9 Enter
tmux_type c5 'echo hung-$((6*7))'
tmux_keys c5 Enter
wait_for_screen c5 '^hung-42' 10
$MOSHX serve --list >/dev/null || fail "--list failed while session 9 hangs"
kill -CONT "${PID[9]}"
wait_for_screen c9 '^typed-while-hung' 15
[ "$($MOSHX serve --list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')" = 9 ] ||
  fail "expected nine live sessions after the crash"
err=$($MOSHX serve --attach s7 2>&1) && fail "attach to a crashed session succeeded: $err"
echo "$err" | grep -q "exit status 139 (session process killed by signal 11" ||
  fail "crash not explained: $err"
err=$($MOSHX serve --kill nosuch 2>&1) && fail "kill of an unknown session succeeded"
echo "$err" | grep -q "no session 'nosuch'; sessions: 1 (s1), 2 (s2), 3 (s3)" ||
  fail "unknown session not explained: $err"

# 4. --attach: a second client takes session 3 over.
json=$($MOSHX serve --attach s3 --json | grep '^{') || fail "--attach s3 failed"
[ "$(json_field port "$json")" = "$port" ] || fail "attach answered another port: $json"
[ "$(json_field key "$json")" != "${KEY[3]}" ] || fail "attach kept the old key"
[ "$(json_field connection_id "$json")" != "${CID[3]}" ] || fail "attach kept the old id"
KEY[3]=$(json_field key "$json")
CID[3]=$(json_field connection_id "$json")
client new3 3
wait_for_screen new3 '^still-42' 15
[ "$(wait_for_status c3 15)" = 0 ] || fail "the superseded client did not exit 0"
tmux_type new3 'echo again-$((6*7))'
tmux_keys new3 Enter
wait_for_screen new3 '^again-42' 10
err=$($MOSHX serve --attach nosuch 2>&1) && fail "attach to an unknown session succeeded"
echo "$err" | grep -q "no session 'nosuch'" || fail "unknown attach not explained: $err"

# The old client's datagrams, replayed once its association is gone, are
# counted drops in the host and change nothing. c4 talks through a recording
# UDP proxy (client -> host datagrams appended to a file).
cat >"$E2E_DIR/proxy.py" <<'PY'
import select, socket, struct, sys
host_port, capture, port_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); down.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.connect(("127.0.0.1", host_port))
open(port_file + ".tmp", "w").write(str(down.getsockname()[1]))
import os; os.rename(port_file + ".tmp", port_file)
client, out = None, open(capture, "ab", buffering=0)
while True:
    for s in select.select([down, up], [], [])[0]:
        if s is down:
            data, client = down.recvfrom(4096)
            out.write(struct.pack(">H", len(data)) + data)
            up.send(data)
        elif client:
            down.sendto(up.recv(4096), client)
PY
python3 "$E2E_DIR/proxy.py" "$port" "$E2E_DIR/c4.capture" "$E2E_DIR/proxy.port" &
e2e_track_pid $!
for _ in $(seq 50); do [ -s "$E2E_DIR/proxy.port" ] && break; sleep 0.1; done
proxy_port=$(cat "$E2E_DIR/proxy.port") || fail "the recording proxy did not start"
tmux_start_with_status c4 80 24 env "MOSH_KEY=${KEY[4]}" "$MOSHX" client \
  --connection-id "${CID[4]}" 127.0.0.1 "$proxy_port"
wait_for_screen c4 '^s4\$' 15
tmux_type c4 'echo replayed-$((6*7))'
tmux_keys c4 Enter
wait_for_screen c4 '^replayed-42' 10
json=$($MOSHX serve --attach s4 --json | grep '^{') || fail "--attach s4 failed"
KEY[4]=$(json_field key "$json")
CID[4]=$(json_field connection_id "$json")
client new4 4
wait_for_screen new4 '^replayed-42' 15
[ "$(wait_for_status c4 15)" = 0 ] || fail "the superseded client c4 did not exit 0"
host_stat() { $MOSHX serve --list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["host"][sys.argv[1]])' "$1"; }
live=$($MOSHX serve --list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')
for _ in $(seq 100); do [ "$(host_stat routes)" = "$live" ] && break; sleep 0.1; done
[ "$(host_stat routes)" = "$live" ] || fail "the old id of session 4 was never retired"
before=$(host_stat dropped_unknown_id)
replayed=$(python3 - "$E2E_DIR/c4.capture" "$port" <<'PY'
import socket, struct, sys
data, n = open(sys.argv[1], "rb").read(), 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while data:
    (length,), data = struct.unpack(">H", data[:2]), data[2:]
    s.sendto(data[:length], ("127.0.0.1", int(sys.argv[2]))); data = data[length:]; n += 1
print(n)
PY
)
[ "$replayed" -ge 3 ] || fail "only $replayed datagrams captured"
for _ in $(seq 50); do [ "$(( $(host_stat dropped_unknown_id) - before ))" -ge "$replayed" ] && break; sleep 0.1; done
[ "$(( $(host_stat dropped_unknown_id) - before ))" = "$replayed" ] ||
  fail "replayed $replayed datagrams, the host dropped $(( $(host_stat dropped_unknown_id) - before ))"
sleep 0.5
[ "$(tmux_screen new4 | grep -c '^replayed-42')" = 1 ] || fail "the replay changed session 4"

# 5. --kill.
out=$($MOSHX serve --kill s1) || fail "--kill s1 failed"
[ "$out" = "killed session 1 (s1)" ] || fail "unexpected --kill output: $out"
kill -0 "${PID[1]}" 2>/dev/null && fail "session process 1 still runs after --kill"
$MOSHX serve --list | grep -q '^1 ' && fail "session 1 still listed after --kill"

# 6. Another user, pointed at this user's runtime directory.
world=$(mktemp -d /tmp/moshx-e2e-world.XXXXXX)
chmod 755 "$world"
E2E_WORLD_DIRS+=("$world")
cp "$MOSHX" "$world/moshx"
chmod 755 "$world/moshx"
as_nobody() {
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    env XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" "$world/moshx" serve "$@"
}
for args in "--list" "--list --json" "--attach s3" "--kill s3"; do
  # shellcheck disable=SC2086
  err=$(as_nobody $args 2>&1) && fail "another user could run serve $args: $err"
  echo "$err" | grep -q "permission denied" || fail "serve $args as another user: $err"
done
kill -0 "${PID[3]}" || fail "session 3 ended after another user's --kill"
echo PASS
