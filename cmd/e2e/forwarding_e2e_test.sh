#!/usr/bin/env bash
# Port and agent forwarding through a real sshd on loopback (docs/forwarding.md):
# `moshx connect -L -R -D -A` in one session as the unprivileged test user.
#   -L: 50 MB from a local HTTP server (python3 -m http.server), sha256 equal;
#   -R: a port on the server side reaches the same HTTP server through the client;
#   -D: curl --socks5 through the client's SOCKS port;
#   -A: `ssh-add -l` in the session lists the client's key, and ssh from the
#       session to the sshd logs in with it;
#   a -L port already in use is one line in the bar and on stderr, and the
#   session goes on.
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for sshd"; exit 0; }
command -v curl >/dev/null || fail "curl is not installed (tools/setup --test)"
command -v ssh-agent >/dev/null || fail "ssh-agent is not installed (tools/setup --test)"
sshd_start
world=$(sshd_world_dir)
cp cmd/moshx "$world/moshx"
chmod 755 "$world/moshx"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The HTTP server, on the "server side" (the same loopback).
www=$E2E_DIR/www
mkdir -p "$www"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$www/blob"
want=$(sha256sum <"$www/blob" | cut -d' ' -f1)
http_port=$(free_port)
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$www" >/dev/null 2>&1 &
e2e_track_pid $!
for ((i = 0; i < 50; i++)); do
  curl -sf -o /dev/null "http://127.0.0.1:$http_port/" && break
  sleep 0.1
done

# The client's agent, holding the key the sshd accepts.
eval "$(ssh-agent -s -a "$E2E_DIR/agent.sock")" >/dev/null
e2e_track_pid "$SSH_AGENT_PID"
ssh-add -q "$E2E_DIR/sshd/client_key" || fail "ssh-add"
fingerprint=$(ssh-keygen -lf "$E2E_DIR/sshd/client_key.pub" | cut -d' ' -f2)

l_port=$(free_port)
r_port=$(free_port)
d_port=$(free_port)
tmux_start_with_status s 100 24 sh -c 'exec "$@" 2>"$0"' "$E2E_DIR/client.err" \
  env TERM=xterm-256color LANG=C.UTF-8 SSH_AUTH_SOCK="$SSH_AUTH_SOCK" "$world/moshx" connect \
  --ssh "$E2E_SSH" --server "$world/moshx" \
  -L "$l_port:127.0.0.1:$http_port" -L "$http_port:127.0.0.1:1" \
  -R "$r_port:127.0.0.1:$http_port" -D "127.0.0.1:$d_port" -A \
  "$E2E_SSH_DEST" -- /bin/sh
# The port in use: one line in the bar; everything else works.
wait_for_screen s "cannot listen on localhost:$http_port: Address already in use" 20
wait_for_screen s '\$ *$' 20

# wait_for_literal NAME TEXT [SECONDS]: the screen contains TEXT (grep -F:
# key fingerprints hold regex characters).
wait_for_literal() {
  local name=$1 text=$2 seconds=${3:-15} i
  for ((i = 0; i < seconds * 10; i++)); do
    tmux_screen "$name" | tr -d '\n' | grep -qF -- "$text" && return 0
    sleep 0.1
  done
  fail "screen of '$name' never showed '$text' within ${seconds}s"
}

# fetch NAME URL [curl options]: the blob's sha256 must be $want.
fetch() {
  local what=$1 url=$2; shift 2
  local start=$SECONDS got
  curl -sf --max-time 120 "$@" -o "$E2E_DIR/got" "$url" || fail "$what: curl failed"
  got=$(sha256sum <"$E2E_DIR/got" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$what: sha256 $got, want $want"
  echo "$what: 50 MiB in $((SECONDS - start)) s, sha256 equal"
  rm -f "$E2E_DIR/got"
}

fetch "-L" "http://127.0.0.1:$l_port/blob"
fetch "-D" "http://127.0.0.1:$http_port/blob" --socks5 "127.0.0.1:$d_port"
# -R listens on the server's side once its request went through.
for ((i = 0; i < 50; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$r_port") 2>/dev/null && break
  sleep 0.1
done
fetch "-R" "http://127.0.0.1:$r_port/blob"

# -A: the session's agent is the client's.
tmux_type s 'ssh-add -l; echo agent-status=$?'
tmux_keys s Enter
wait_for_screen s '^agent-status=' 15
wait_for_literal s "$fingerprint"
wait_for_screen s '^agent-status=0' 1
port=$(sed -n 's/^Port //p' "$E2E_DIR/sshd/sshd_config")
tmux_type s "ssh -F /dev/null -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
-o BatchMode=yes -o LogLevel=ERROR $E2E_SSH_USER@127.0.0.1 echo logged-in-with-the-agent"
tmux_keys s Enter
wait_for_screen s '^logged-in-with-the-agent' 20

tmux_type s 'exit'
tmux_keys s Enter
status=$(wait_for_status s 20)
[ "$status" = 0 ] || fail "client exit status $status; stderr: $(cat "$E2E_DIR/client.err")"
grep -qF "moshx: -L localhost:$http_port:127.0.0.1:1: cannot listen on localhost:$http_port" \
  "$E2E_DIR/client.err" || fail "no bind message on stderr: $(cat "$E2E_DIR/client.err")"
[ "$(wc -l <"$E2E_DIR/client.err")" -eq 1 ] || fail "stderr: $(cat "$E2E_DIR/client.err")"
echo PASS
