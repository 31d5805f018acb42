#!/usr/bin/env bash
# Scrollback in the local terminal (issue 14), in tmux as a user sees it:
#  1. `moshx connect --local`: after `seq 1 5000` the pane's history holds
#     1..5000, each once, in order, then the prompt; coloured lines reach the
#     history with the same cells and renditions as in a plain shell; what
#     vim and less showed never enters the history. A flood the client
#     cannot take (`seq 1 3000000` while it is stopped) leaves a marker, then
#     the newest 10000 lines, then the screen.
#  2. Over tools/netem's relay at 200 ms RTT and 10% loss each way: the same
#     for `seq 1 5000`; then a flood (`seq 1 300000`): every line of the
#     history is where its number says and the lines not kept (a flood of
#     more than --scrollback lines in 0.2 s, or a link that fell behind by
#     more) are counted exactly by the "[moshx: N lines not kept]" markers.
source tools/testing/e2e_lib.sh
e2e_init
MOSHX=$(realpath cmd/moshx)
RELAY=$(realpath tools/netem/udp_relay)
CELLS=$(realpath cmd/e2e/screen_cells.py)

# A tmux server whose panes keep 500000 lines of history.
tmux_start boot 20 5 sleep 600
tmux_cmd set-option -g history-limit 500000 >/dev/null

history_of() { tmux_cmd capture-pane -p -t "$1" -S - -E - "${@:2}"; }

# Checks that the history of pane $1 numbers lines first..last exactly: each
# "[moshx: N lines not kept]" marker skips N numbers, every other line
# between the first "1" and the prompt is the next number. Prints a summary.
check_numbered() {
  local pane=$1 last=$2 prompt=$3 markers_allowed=$4
  history_of "$pane" >"$E2E_DIR/$pane.history"
  python3 - "$E2E_DIR/$pane.history" "$last" "$prompt" "$markers_allowed" <<'PY' || return 1
import re, sys
lines = [l.rstrip() for l in open(sys.argv[1])]
last, prompt, markers_allowed = int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
marker = re.compile(r"\[moshx: ([0-9,]+) lines? not kept\]")
start = next(i for i, l in enumerate(lines) if l == "1" or marker.fullmatch(l))
expect, kept, markers = 1, 0, 0
for i, l in enumerate(lines[start:], start):
    m = marker.fullmatch(l)
    if m:
        if not markers_allowed:
            sys.exit(f"line {i}: a marker: {l}")
        expect += int(m.group(1).replace(",", "")); markers += 1
        continue
    if expect > last:
        if not l.startswith(prompt):
            sys.exit(f"line {i}: expected the prompt after {last}, got {l!r}")
        break
    if l != str(expect):
        sys.exit(f"line {i}: expected {expect}, got {l!r}")
    expect += 1; kept += 1
else:
    sys.exit(f"history ends before the prompt (next expected {expect})")
print(f"numbered 1..{last}: {kept} lines kept, {markers} markers")
PY
}

wait_numbered() {
  local pane=$1 last=$2 prompt=$3 seconds=$4 markers_allowed=${5:-0} i
  for ((i = 0; i < seconds; i++)); do
    check_numbered "$pane" "$last" "$prompt" "$markers_allowed" >"$E2E_DIR/check.out" 2>&1 && {
      cat "$E2E_DIR/check.out"; return 0; }
    sleep 1
  done
  cat "$E2E_DIR/check.out" >&2
  fail "history of $pane not numbered 1..$last within ${seconds}s"
}

# Coloured lines: SGR attributes, 16/256/RGB colours, then enough lines to
# scroll them into the history.
cat >"$E2E_DIR/colours.sh" <<'SH'
for i in 1 2 3 4 5 6; do
  printf 'col%d \033[1;31mbold-red\033[0m \033[4;38;5;%dmund-256\033[0m \033[7;38;2;10;%d;200mrgb-inv\033[0m \033[3;9;92mital-strike\033[0m\n' \
    "$i" $((100 + i)) $((20 * i))
done
seq 1 40 | sed 's/^/pad/'
SH
coloured_cells() {  # the colour lines of pane $1's history, canonical cells
  history_of "$1" -e | grep -a 'col[1-6]' | python3 "$CELLS"
}

# --- 1. moshx connect --local ------------------------------------------------
tmux_start ref 80 24 env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 \
  PS1='ref$ ' /bin/bash --norc --noprofile
wait_for_screen ref 'ref\$' 10
tmux_type ref "bash $E2E_DIR/colours.sh"
tmux_keys ref Enter
wait_for_screen ref '^pad40' 10

# A session host of this test's own (its sessions are nobody else's to end).
mkdir -m 700 -p "$E2E_DIR/run"
tmux_start t 80 24 env -i PATH=/usr/bin:/bin HOME=/tmp XDG_RUNTIME_DIR="$E2E_DIR/run" \
  TERM=xterm-256color LANG=C.UTF-8 PS1='outer$ ' /bin/bash --norc --noprofile
wait_for_screen t 'outer\$' 10
tmux_type t "$MOSHX connect --local -- /usr/bin/env PS1='in\$ ' /bin/bash --norc --noprofile; echo client-exit=\$?"
tmux_keys t Enter
wait_for_screen t '^in\$' 15
tmux_type t 'seq 1 5000'
tmux_keys t Enter
wait_numbered t 5000 'in$' 60

tmux_type t "bash $E2E_DIR/colours.sh"
tmux_keys t Enter
wait_for_screen t '^pad40' 10
for _ in $(seq 30); do
  [ "$(coloured_cells t | grep -c col)" -ge 6 ] && break
  sleep 0.5
done
coloured_cells ref >"$E2E_DIR/ref.cells"
coloured_cells t >"$E2E_DIR/t.cells"
[ "$(grep -c col "$E2E_DIR/ref.cells")" = 6 ] || fail "reference pane: $(cat "$E2E_DIR/ref.cells")"
diff "$E2E_DIR/ref.cells" "$E2E_DIR/t.cells" >&2 || fail "coloured history lines differ"

# The alternate screen's content (vim's) never enters the history, and the
# lines that scroll while it shows wait for it to end.
printf 'vim-only-%s\n' $(seq 1 60) >"$E2E_DIR/vimfile"
tmux_type t "vim -u NONE -N -n $E2E_DIR/vimfile"
tmux_keys t Enter
wait_for_screen t 'vim-only-1' 15
tmux_type t ':$'
tmux_keys t Enter
wait_for_screen t 'vim-only-60' 10
tmux_type t ':q!'
tmux_keys t Enter
wait_for_screen t '^in\$' 10
# less too (its default: the alternate screen; LESS emptied so no -X).
printf 'less-only-%s\n' $(seq 1 200) >"$E2E_DIR/pagerfile"
tmux_type t "LESS= less $E2E_DIR/pagerfile"
tmux_keys t Enter
wait_for_screen t '^less-only-1$' 15
tmux_keys t Space
wait_for_screen t '^less-only-30$' 10
tmux_keys t G
wait_for_screen t '^less-only-200$' 10
tmux_keys t q
wait_for_screen t '^in\$' 10
tmux_type t 'seq 1 30 | sed s/^/after/'
tmux_keys t Enter
wait_for_screen t '^after30' 10
sleep 1
history_of t | grep -q 'vim-only' && fail "vim's screen entered the history"
history_of t | grep -q 'less-only' && fail "less's screen entered the history"
history_of t | grep -q '^after6$' || fail "lines after vim did not reach the history"

tmux_type t 'exit'
tmux_keys t Enter
wait_for_screen t 'client-exit=0' 15
# Like ssh, the session's last screen stays; the history keeps its lines once.
[ "$(history_of t | grep -c '^5000$')" = 1 ] || fail "5000 not once in the history"

# A flood the client cannot take (stopped): the session keeps the newest
# --scrollback (10000) lines; after SIGCONT the history is numbered exactly
# and ends with them, after a marker, then the screen.
# tmux resumes a pane's own process when it stops: the client runs one
# level down, under sh.
tmux_start f 80 24 sh -c '"$@"; echo client-exit=$?; sleep 60' sh \
  env -i PATH=/usr/bin:/bin HOME=/tmp XDG_RUNTIME_DIR="$E2E_DIR/run" \
  TERM=xterm-256color LANG=C.UTF-8 "$MOSHX" connect --local -- \
  /usr/bin/env PS1='in$ ' /bin/bash --norc --noprofile
wait_for_screen f '^in\$' 15
tmux_type f "clear; touch $E2E_DIR/flood-typed; sleep 3; seq 1 3000000; touch $E2E_DIR/flood-done"
tmux_keys f Enter
for _ in $(seq 50); do [ -e "$E2E_DIR/flood-typed" ] && break; sleep 0.1; done
[ -e "$E2E_DIR/flood-typed" ] || fail "the flood command did not start"
client_pid=$(pgrep -P "$(tmux_pane_pid f)")  # the client (env execs it)
[ -n "$client_pid" ] || fail "no client under pane f"
kill -STOP "$client_pid"
sleep 0.5
grep -q '^State:.*stopped' "/proc/$client_pid/status" || fail "the client did not stop"
for _ in $(seq 120); do [ -e "$E2E_DIR/flood-done" ] && break; sleep 0.5; done
[ -e "$E2E_DIR/flood-done" ] || { kill -CONT "$client_pid"; fail "seq 1 3000000 did not end in 60 s"; }
kill -CONT "$client_pid"
wait_numbered f 3000000 'in$' 120 1
history_of f | python3 -c '
import re, sys
lines = [l.rstrip() for l in sys.stdin]
marks = [i for i, l in enumerate(lines) if re.fullmatch(r"\[moshx: [0-9,]+ lines? not kept\]", l)]
if not marks: sys.exit("no marker after a flood the client could not take")
tail = [l for l in lines[marks[-1] + 1:] if l.isdigit()]
if not 10000 <= len(tail) <= 10024 or tail[-1] != "3000000":
    sys.exit(f"after the last marker: {len(tail)} numbers ending {tail[-1:]}, expected the newest 10000 lines then the screen")
print(f"after the last marker: the newest {len(tail)} numbers (history and screen)")
' || fail "the flood's history does not end with the newest 10000 lines"

tmux_type f 'exit'
tmux_keys f Enter
wait_for_screen f 'client-exit=0' 15

# --- 2. over the relay: 200 ms RTT, 10% loss -----------------------------------
# In the test's own session host (e2e_init's XDG_RUNTIME_DIR); -v: the host
# logs to serve.err.
out=$($MOSHX serve -v --bind 127.0.0.1 --port-range 62101:62200 --json -- \
      /usr/bin/env PS1='srv$ ' /bin/bash --norc --noprofile 2>"$E2E_DIR/serve.err") ||
  fail "moshx serve failed: $(cat "$E2E_DIR/serve.err")"
read -r _ _ port key connid <<<"$(echo "$out" | grep '^MOSHX CONNECT')"
server_pid=$(echo "$out" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
[ -n "$port" ] && [ -n "$server_pid" ] || fail "no CONNECT/JSON line in: $out"
e2e_track_pid "$server_pid"
# The relay outlives the waits below (120 + 240 s).
"$RELAY" --server-port "$port" --control-port 0 --delay-ms 100 --loss 0.10 --seed 14 \
  --max-seconds 420 >"$E2E_DIR/relay.out" 2>&1 &
relay_pid=$!
e2e_track_pid $relay_pid
for _ in $(seq 50); do grep -q ready "$E2E_DIR/relay.out" && break; sleep 0.1; done
relay_port=$(sed -n 's/.*listen=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
[ -n "$relay_port" ] || fail "relay did not start: $(cat "$E2E_DIR/relay.out")"
control_port=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$E2E_DIR/relay.out")
# If section 2 fails: which of session, host and relay still run, what the
# relay counted and what the host logged.
e2e_on_fail() {
  echo "--- section 2 at failure ($(date +%T)) ---"
  local p
  for p in "$server_pid" $(pgrep -f "^$MOSHX serve -v --bind 127.0.0.1 --port-range 62101") "$relay_pid"; do
    if ps -p "$p" >/dev/null 2>&1; then
      ps -o pid=,stat=,etime=,time=,args= -p "$p" | cut -c1-120
    else
      echo "$p: gone"
    fi
  done
  [ -n "$control_port" ] &&
    echo "relay: $(timeout 2 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5)
s.sendto(b"stats", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(4096).decode())' "$control_port" 2>&1)"
  echo "relay.out: $(tail -c 600 "$E2E_DIR/relay.out")"
  echo "serve.err (host and session, -v):"; tail -n 40 "$E2E_DIR/serve.err"
}

tmux_start_with_status c 80 24 env MOSH_KEY="$key" TERM=xterm-256color \
  "$MOSHX" client --connection-id "$connid" 127.0.0.1 "$relay_port"
wait_for_screen c 'srv\$' 20
tmux_type c 'seq 1 5000'
tmux_keys c Enter
wait_numbered c 5000 'srv$' 120

# A flood keeps its newest --scrollback lines (HistorySender::kHoldTime):
# a line that scrolled off just before it (the one Enter pushes off a full
# screen) would be in its marker's count. So the screen is cleared first,
# that line delivered (hold and round trip), the history cleared; then the
# flood's own `clear` wipes its command line, and "1" is the first line to
# leave the screen.
tmux_type c 'clear'
tmux_keys c Enter
sleep 2
tmux_cmd clear-history -t c
tmux_type c 'clear; seq 1 300000'
tmux_keys c Enter
wait_numbered c 300000 'srv$' 240 1

tmux_type c 'exit'
tmux_keys c Enter
status=$(wait_for_status c 30)
[ "$status" = 0 ] || fail "client exit status $status"
unset -f e2e_on_fail
# --- 3. re-attach: the session's newest --history lines, then its screen -------
# The test's own session host (XDG_RUNTIME_DIR), a named session.
LOCAL_ENV=(env -i PATH=/usr/bin:/bin HOME=/tmp XDG_RUNTIME_DIR="$E2E_DIR/run"
           TERM=xterm-256color LANG=C.UTF-8 PS1='outer$ ')
# Checks pane $1's history: the numbers in it run without a hole up to 3000
# (then the prompt); their count is within [$2, $3]. Prints the count.
reattached_numbers() {
  history_of "$1" >"$E2E_DIR/$1.history"
  python3 - "$E2E_DIR/$1.history" "$2" "$3" <<'PY'
import sys
lines = [l.rstrip() for l in open(sys.argv[1])]
lo, hi = int(sys.argv[2]), int(sys.argv[3])
nums = [(i, int(l)) for i, l in enumerate(lines) if l.isdigit()]
if not nums: sys.exit("no numbers in the history")
first_i, first = nums[0]
for k, (i, n) in enumerate(nums):
    if i != first_i + k or n != first + k:
        sys.exit(f"line {i}: {n} breaks the run {first}..")
if nums[-1][1] != 3000: sys.exit(f"the run ends at {nums[-1][1]}, not 3000")
after = lines[nums[-1][0] + 1] if nums[-1][0] + 1 < len(lines) else ""
if not after.startswith("in$"): sys.exit(f"after 3000: {after!r}, not the prompt")
if not lo <= len(nums) <= hi: sys.exit(f"{len(nums)} numbers ({first}..3000), expected {lo}..{hi}")
print(len(nums))
PY
}
wait_reattached() {
  local pane=$1 lo=$2 hi=$3 i
  for ((i = 0; i < 30; i++)); do
    reattached_numbers "$pane" "$lo" "$hi" >"$E2E_DIR/re.out" 2>&1 && {
      echo "$pane: $(cat "$E2E_DIR/re.out") numbered lines"; return 0; }
    sleep 1
  done
  fail "re-attached pane $pane: $(cat "$E2E_DIR/re.out")"
}
tmux_start h1 80 24 "${LOCAL_ENV[@]}" /bin/bash --norc --noprofile
wait_for_screen h1 'outer\$' 10
tmux_type h1 "$MOSHX connect --local --name hist -- /usr/bin/env PS1='in\$ ' /bin/bash --norc --noprofile"
tmux_keys h1 Enter
wait_for_screen h1 '^in\$' 15
tmux_type h1 'seq 1 3000'
tmux_keys h1 Enter
wait_numbered h1 3000 'in$' 60
# The default: the newest 1000 lines of the history, then the screen (its
# 22 or so numbers and the prompt).
tmux_start h2 80 24 "${LOCAL_ENV[@]}" /bin/bash --norc --noprofile
wait_for_screen h2 'outer\$' 10
tmux_type h2 "$MOSHX connect --local --attach hist"
tmux_keys h2 Enter
wait_for_screen h2 '^in\$' 15
wait_reattached h2 1000 1024
# --history 0: the screen only; --history 5000: all the session has.
tmux_start h3 80 24 "${LOCAL_ENV[@]}" /bin/bash --norc --noprofile
wait_for_screen h3 'outer\$' 10
tmux_type h3 "$MOSHX connect --local --attach hist --history 0"
tmux_keys h3 Enter
wait_for_screen h3 '^in\$' 15
sleep 2
wait_reattached h3 1 24
tmux_start h4 80 24 "${LOCAL_ENV[@]}" /bin/bash --norc --noprofile
wait_for_screen h4 'outer\$' 10
tmux_type h4 "$MOSHX connect --local --name hist --history 5000"
tmux_keys h4 Enter
wait_for_screen h4 '^in\$' 15
wait_reattached h4 3000 3000
tmux_type h4 'exit'
tmux_keys h4 Enter
wait_for_screen h4 'outer\$ *$' 15
echo PASS
