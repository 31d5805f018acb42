#!/usr/bin/env bash
# Idle memory of the session host (issue 13's goal: <= 2 MB PSS per extra
# session). Starts a private session host, then sessions one by one; each gets
# a real moshx client (in tmux) until its shell's prompt is drawn, and the
# client is then killed (-9), so every session is idle and detached with its
# screen in memory. Prints the PSS (/proc/PID/smaps_rollup) of the host and of
# the session processes, shells excluded, after the first session and after
# the last, and the cost of each extra session.
#
#   tools/benchmark/session_pss.sh [MOSHX] [SESSIONS]   (default .bazel/bin/cmd/moshx, 11)
set -eu
MOSHX=$(realpath "${1:-.bazel/bin/cmd/moshx}")
SESSIONS=${2:-11}
WORK=$(mktemp -d /tmp/moshx-pss.XXXXXX)
export XDG_RUNTIME_DIR=$WORK
TMUX_SOCKET=$WORK/tmux.sock
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 1" INT TERM  # so that a killed run cleans up too

pss_kib() {  # total PSS of the given pids, KiB
  local total=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
    total=$((total + v))
  done
  echo "$total"
}

host=
declare -a SESSION_PIDS=()
measure() {
  local all=("$host" "${SESSION_PIDS[@]}")
  echo "$(pss_kib "${all[@]}") $(pss_kib "$host")"
}

for i in $(seq 1 "$SESSIONS"); do
  json=$("$MOSHX" serve --bind 127.0.0.1 --json -- /usr/bin/env PS1="p$i> " /bin/sh | grep '^{')
  read -r port key cid pid hpid < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]);
print(j["port"], j["key"], j["connection_id"], j["pid"], j["host_pid"])' "$json")
  host=$hpid
  PIDS+=("$pid" "$hpid")
  SESSION_PIDS+=("$pid")
  tmux -S "$TMUX_SOCKET" -f /dev/null new-session -d -s "c$i" -x 80 -y 24 \
    env MOSH_KEY="$key" "$MOSHX" client --connection-id "$cid" 127.0.0.1 "$port"
  drawn=no
  for _ in $(seq 300); do
    if tmux -S "$TMUX_SOCKET" capture-pane -p -t "c$i" | grep -q "^p$i>"; then drawn=yes; break; fi
    sleep 0.1
  done
  [ "$drawn" = yes ] || { echo "session $i: the client never drew the prompt:" >&2
    tmux -S "$TMUX_SOCKET" capture-pane -p -t "c$i" >&2; exit 1; }
  kill -9 "$(tmux -S "$TMUX_SOCKET" display-message -p -t "c$i" '#{pane_pid}')"
  if [ "$i" = 1 ]; then
    sleep 2
    read -r first first_host < <(measure)
  fi
done
sleep 3  # idle: the last status reports and retransmissions are over
read -r last last_host < <(measure)
echo "sessions: $SESSIONS (each drew its shell's screen for a client, which was then killed)"
echo "PSS host + 1 session process:  $first KiB (host alone $first_host KiB)"
echo "PSS host + $SESSIONS session processes: $last KiB (host alone $last_host KiB)"
echo "per extra session: $(( (last - first) / (SESSIONS - 1) )) KiB"
