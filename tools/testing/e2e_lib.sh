# e2e_lib.sh — helpers for real-process end-to-end tests (sourced by sh_tests).
#
# Everything a test starts is tracked and torn down by e2e_cleanup (installed
# as an EXIT trap by e2e_init): its own tmux server (private socket), its own
# processes (by PID), its own sshd. Nothing outside loopback is ever contacted.
#
#   e2e_init                      temp dir, traps, PATH, XDG_RUNTIME_DIR (a
#                                 session host of the test's own)
#   tmux_start NAME COLS ROWS CMD start CMD in a detached tmux window
#   tmux_keys NAME KEYS...        tmux send-keys (literal text with -l via tmux_type)
#   tmux_type NAME TEXT           type TEXT literally
#   tmux_screen NAME              print the visible pane
#   wait_for_screen NAME REGEX [SECONDS]   poll until the pane matches (default 15 s)
#   tmux_start_with_status NAME COLS ROWS CMD   like tmux_start, exit status to a file
#   wait_for_status NAME [SECONDS]              wait for it; prints the status
#   client_ssh_pid NAME           PID of the ssh a `moshx` in window NAME runs
#                                 (its direct child), for tests that drop it
#   fail MESSAGE                  print, dump state (and call the test's
#                                 e2e_on_fail if it defines one), exit 1

set -u

e2e_init() {
  # Under /tmp: unix socket paths (tmux) must stay short.
  E2E_DIR=$(mktemp -d /tmp/moshx-e2e.XXXXXX)
  E2E_WORLD_DIRS=()
  E2E_TMUX_SOCKET=$E2E_DIR/tmux.sock
  E2E_PIDS=()
  E2E_LOCK_FDS=()
  # A session host of the test's own. In the user's default one
  # (/tmp/moshx-UID) a session would be a child of whichever test started
  # that host, and bazel kills every process a test left when it ends: the
  # sessions of tests running beside it died with it (scrollback_e2e_test's
  # "Last contact" in CI). Tests may still point it elsewhere.
  export XDG_RUNTIME_DIR=$E2E_DIR/xdg
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
  export TERM=${TERM:-xterm-256color}
  [ "$TERM" = dumb ] && export TERM=xterm-256color
  export LANG=C.UTF-8
  trap e2e_cleanup EXIT
}

e2e_track_pid() { E2E_PIDS+=("$1"); }

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  # Never hang on the way out (a stopped process, a stuck server).
  timeout 5 tmux -S "$E2E_TMUX_SOCKET" kill-server 2>/dev/null
  for pid in "${E2E_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  done
  # sshd_world_dir's directories (listed in a file: it runs in a subshell).
  local d
  if [ -f "$E2E_DIR/world-dirs" ]; then
    while IFS= read -r d; do
      case "$d" in /tmp/moshx-e2e-world.*) rm -rf "$d" ;; esac
    done <"$E2E_DIR/world-dirs"
  fi
  rm -rf "$E2E_DIR" "${E2E_WORLD_DIRS[@]:-}"
  # Release the test accounts (sshd_fixture.sh's sshd_lock_account). flock
  # locks belong to the open file, so unlocking here releases them even if a
  # process this test started still holds the descriptor.
  local fd
  for fd in "${E2E_LOCK_FDS[@]:-}"; do
    [ -n "$fd" ] && flock -u "$fd" 2>/dev/null
  done
}

tmux_cmd() { tmux -S "$E2E_TMUX_SOCKET" "$@"; }

tmux_start() {
  local name=$1 cols=$2 rows=$3; shift 3
  tmux_cmd -f /dev/null new-session -d -s "$name" -x "$cols" -y "$rows" "$@" ||
    fail "tmux could not start $*"
  tmux_cmd set-option -t "$name" remain-on-exit on >/dev/null
}

# Like tmux_start, but CMD's exit status is written to a file that
# wait_for_status reads (tmux may report a pane dead before its status).
tmux_start_with_status() {
  local name=$1 cols=$2 rows=$3; shift 3
  rm -f "$E2E_DIR/$name.status"
  tmux_start "$name" "$cols" "$rows" sh -c '"$@"; echo $? >"$0.tmp" && mv "$0.tmp" "$0"' \
    "$E2E_DIR/$name.status" "$@"
}

# Waits for the command started by tmux_start_with_status; prints its status.
wait_for_status() {
  local name=$1 seconds=${2:-15} i
  for ((i = 0; i < seconds * 10; i++)); do
    [ -s "$E2E_DIR/$name.status" ] && { cat "$E2E_DIR/$name.status"; return 0; }
    sleep 0.1
  done
  fail "'$name' did not exit within ${seconds}s"
}

tmux_keys() { local name=$1; shift; tmux_cmd send-keys -t "$name" "$@"; }
tmux_type() { tmux_cmd send-keys -t "$1" -l "$2"; }
tmux_screen() { tmux_cmd capture-pane -p -t "$1"; }
tmux_pane_dead() { [ "$(tmux_cmd display-message -p -t "$1" '#{pane_dead}')" = 1 ]; }
tmux_pane_pid() { tmux_cmd display-message -p -t "$1" '#{pane_pid}'; }

wait_for_screen() {
  local name=$1 regex=$2 seconds=${3:-15} i
  for ((i = 0; i < seconds * 10; i++)); do
    tmux_screen "$name" | grep -Eq -- "$regex" && return 0
    sleep 0.1
  done
  fail "screen of '$name' never matched /$regex/ within ${seconds}s"
}

# The program of the process a session printed as "ppid=N" (the server its
# shell runs under), read here by the test (root): moshx's server is not
# dumpable, so the session's own user cannot read its /proc/PID/exe
# (docs/security.md §2).
exe_of_printed_ppid() {
  local pid
  pid=$(tmux_screen "$1" | sed -n 's/.*ppid=\([0-9][0-9]*\).*/\1/p' | tail -1)
  [ -n "$pid" ] && readlink "/proc/$pid/exe"
}

# Every process below PID, depth first.
e2e_descendants() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; e2e_descendants "$c"; done
}

client_ssh_pid() {
  local pid parent
  for pid in $(e2e_descendants "$(tmux_pane_pid "$1")"); do
    [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = ssh ] || continue
    parent=$(awk '{print $4}' /proc/"$pid"/stat 2>/dev/null)
    [ "$(cat /proc/"$parent"/comm 2>/dev/null)" = moshx ] && { echo "$pid"; return 0; }
  done
  return 1
}

wait_for_dead_pane() {
  local name=$1 seconds=${2:-15} i
  for ((i = 0; i < seconds * 10; i++)); do
    tmux_pane_dead "$name" && return 0
    sleep 0.1
  done
  fail "pane '$name' still running after ${seconds}s"
}

fail() {
  echo "FAIL: $*" >&2
  # A test may define e2e_on_fail to print what only it knows (logs, PIDs).
  if declare -F e2e_on_fail >/dev/null; then
    e2e_on_fail >&2 || true
  fi
  if [ -S "${E2E_TMUX_SOCKET:-/nonexistent}" ]; then
    local s
    for s in $(tmux_cmd list-sessions -F '#S' 2>/dev/null); do
      echo "--- screen of $s ---" >&2
      tmux_screen "$s" >&2
    done
  fi
  exit 1
}
