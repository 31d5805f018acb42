#!/usr/bin/env bash
# moshx's mosh-server / mosh-client personalities against Debian's real
# programs: the same invocations must give the same stdout, stderr and exit
# status (banners excepted: they name moshx). Also: an unknown mosh-server
# option is not fatal, the CONNECT line and detach message have mosh's form,
# an unbindable -i address falls back to every interface, TERM follows -c,
# MOSH_SERVER_NETWORK_TMOUT ends an idle session, and
# MOSH_NO_TERM_INIT keeps the client off the alternate screen.
source tools/testing/e2e_lib.sh
source cmd/e2e/mosh_interop_lib.sh
e2e_init
[ -x /usr/bin/mosh-server ] || fail "Debian's mosh is not installed (apt-get install mosh)"
bin=$(interop_bin_dir)
# Messages name the program as invoked: run both as ./mosh-client, ./mosh-server.
mkdir -p "$E2E_DIR/real"
ln -s /usr/bin/mosh-client /usr/bin/mosh-server "$E2E_DIR/real/"

# same PROGRAM ENV... -- ARGS...: run the real one and moshx's, compare.
same() {
  local prog=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local k
  for k in real moshx; do
    local dir=$E2E_DIR/real
    [ $k = moshx ] && dir=$bin
    (cd "$dir" && env -u MOSH_KEY "${envs[@]}" "./$prog" "$@" </dev/null \
       >"$E2E_DIR/$k.out" 2>"$E2E_DIR/$k.err"; echo $? >"$E2E_DIR/$k.rc")
    # Banners name the program's origin; compare everything else.
    sed -i -e '/^mosh-\(server\|client\) (/d' -e '/^Copyright 2012/d' -e '/^License GPLv3/d' \
      -e '/^This is free software/d' -e '/^There is NO WARRANTY/d' "$E2E_DIR/$k.out" "$E2E_DIR/$k.err"
  done
  for f in out err rc; do
    diff -u "$E2E_DIR/real.$f" "$E2E_DIR/moshx.$f" >&2 ||
      fail "$prog ${envs[*]} $*: $f differs from the real $prog"
  done
  echo "same: $prog ${envs[*]} $* (exit $(cat "$E2E_DIR/real.rc"))"
}

for t in xterm-256color xterm dumb no-such-terminal; do
  same mosh-client TERM=$t -- -c
done
same mosh-client -- -c
same mosh-client TERM=xterm -- --help
same mosh-client -- 1.2.3.4
same mosh-client -- 127.0.0.1 port
same mosh-client -- -x 127.0.0.1 60001
same mosh-client -- 127.0.0.1 60001
same mosh-server -- --help
same mosh-server -- new -s -h
same mosh-server -- new -c lots
same mosh-server -- new -p 61000:60000
same mosh-server -- new -p abc
same mosh-server -- new -p 70000
same mosh-server -- new -p 0:100
same mosh-server -- a b c d

# Unknown options are not fatal; the output has mosh-server's form.
env LANG=C.UTF-8 "$bin/mosh-server" new -Z -i 127.0.0.1 -p 62901:62950 -c 8 -- \
  /bin/sh -c 'echo "TERM=$TERM"; sleep 30' </dev/null >"$E2E_DIR/new.out" 2>"$E2E_DIR/new.err" ||
  fail "mosh-server with an unknown option failed: $(cat "$E2E_DIR/new.err")"
pid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$E2E_DIR/new.err")
[ -n "$pid" ] && e2e_track_pid "$pid"
grep -Eq '^MOSH CONNECT 629[0-4][0-9] [A-Za-z0-9/+]{21}[AQgw]$' "$E2E_DIR/new.out" ||
  fail "CONNECT line: $(cat "$E2E_DIR/new.out")"
grep -q "invalid option -- 'Z'" "$E2E_DIR/new.err" || fail "no complaint: $(cat "$E2E_DIR/new.err")"
grep -q '^Usage: .*mosh-server new' "$E2E_DIR/new.err" || fail "no usage: $(cat "$E2E_DIR/new.err")"
[ -n "$pid" ] || fail "no detach message: $(cat "$E2E_DIR/new.err")"
kill "$pid"

# An address it cannot bind: reported, then every interface (like mosh).
env LANG=C.UTF-8 "$bin/mosh-server" new -i 10.255.255.1 -p 62901:62950 -- /bin/true \
  </dev/null >"$E2E_DIR/fb.out" 2>"$E2E_DIR/fb.err" || fail "fallback: $(cat "$E2E_DIR/fb.err")"
pid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$E2E_DIR/fb.err")
[ -n "$pid" ] && e2e_track_pid "$pid"
grep -q '^Error binding to IP 10.255.255.1: ' "$E2E_DIR/fb.err" || fail "no bind error: $(cat "$E2E_DIR/fb.err")"
grep -q '^MOSH CONNECT ' "$E2E_DIR/fb.out" || fail "no CONNECT after the fallback"
[ -n "$pid" ] && kill "$pid"

# TERM from -c 8, and MOSH_SERVER_NETWORK_TMOUT=2: attach, stop the client,
# the server gives up by itself.
out=$(env LANG=C.UTF-8 MOSH_SERVER_NETWORK_TMOUT=2 "$bin/mosh-server" new -i 127.0.0.1 \
      -p 62951:62999 -c 8 -- /usr/bin/env PS1='srv$ ' /bin/bash --norc --noprofile \
      </dev/null 2>"$E2E_DIR/tmout.err")
read -r _ _ port key <<<"$(echo "$out" | grep '^MOSH CONNECT')"
pid=$(sed -n 's/^\[mosh-server detached, pid = \([0-9]*\)\]$/\1/p' "$E2E_DIR/tmout.err")
[ -n "$pid" ] || fail "no detach message: $(cat "$E2E_DIR/tmout.err")"
e2e_track_pid "$pid"
interop_client_start t 80 24 env MOSH_KEY="$key" TERM=xterm-256color LANG=C.UTF-8 \
  /usr/bin/mosh-client 127.0.0.1 "$port"
wait_for_screen t 'srv\$' 20
interop_run t 'echo "term is $TERM"'
wait_for_screen t '^term is xterm$' 10
client_pid=$(pgrep -P "$(tmux_pane_pid t)")  # the pane runs sh, whose child is the client
[ -n "$client_pid" ] || fail "client pid not found"
kill -STOP "$client_pid"
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "server still running 10 s into a 2 s network timeout"
kill -CONT "$client_pid"

# MOSH_NO_TERM_INIT (mosh --no-init): no alternate screen, so the session's
# last screen stays in the terminal after the client exits.
for init in default no-init; do
  interop_start_server "$bin/mosh-server" 62951:62999
  envs=(MOSH_KEY="$SRV_KEY" TERM=xterm-256color LANG=C.UTF-8)
  [ $init = no-init ] && envs+=(MOSH_NO_TERM_INIT=1)
  interop_client_start $init 80 24 env "${envs[@]}" "$bin/mosh-client" 127.0.0.1 "$SRV_PORT"
  wait_for_screen $init 'srv\$' 20
  interop_run $init 'echo session-$((7*6))'
  wait_for_screen $init '^session-42' 10
  interop_exit $init
  sleep 0.5
done
tmux_screen default | grep -q 'srv\$' && fail "the session stayed on the primary screen"
tmux_screen no-init | grep -q '^srv\$' || fail "MOSH_NO_TERM_INIT: the session's screen is gone"
echo PASS
