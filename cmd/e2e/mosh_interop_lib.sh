# mosh_interop_lib.sh — the session script the mosh interop tests play on
# every client kind (sourced after e2e_lib.sh; issue 7).
#
#   interop_bin_dir              a directory with mosh-server and mosh-client
#                                symlinks to moshx (the personalities)
#   interop_start_server SERVER  run SERVER new ... (real or moshx) with a
#                                bash prompt "srv$ "; sets SRV_PORT, SRV_KEY, tracks the pid
#   interop_script NAME OUT [RELAY_PID]
#                                typing and output, Ctrl-C during a flood,
#                                window resize, 256 and 24-bit colours, CJK,
#                                emoji and a combining accent; with the pid
#                                of a tools/netem udp_relay, also a client
#                                address change (SIGUSR1: the relay rebinds);
#                                then the screens of interop_torture_file
#                                (torture, modes, colours, text); snapshots
#                                of every screen go to OUT
#   interop_snapshot NAME        the pane with attributes, plus the cursor
#   interop_joined_snapshot NAME the pane with wrapped lines joined (tmux keeps
#                                which lines the terminal wrapped), after a
#                                full repaint
#   interop_client_start NAME COLS ROWS CMD...   start a client in tmux
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
  SRV_PID=$pid
}

# The server of the last interop_start_server must have exited (both sides
# end cleanly when the shell exits).
interop_server_gone() {
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SRV_PID" 2>/dev/null || return 0
    sleep 0.1
  done
  fail "server pid $SRV_PID still running 10 s after the session ended"
}

interop_run() {  # NAME COMMAND: type it and press Enter
  tmux_type "$1" "$2"
  tmux_keys "$1" Enter
}

interop_script() {
  local name=$1 out=$2 relay_pid=${3:-}
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
  interop_snapshot "$name" >>"$out"
  interop_torture_file
  interop_run "$name" "clear; bash $E2E_DIR/torture.sh"
  wait_for_screen "$name" 'END' 10
  sleep 1
  interop_snapshot "$name" >>"$out"
  interop_run "$name" "clear; bash $E2E_DIR/modes.sh"
  wait_for_screen "$name" '^MODES-DONE' 10
  sleep 1
  interop_snapshot "$name" >>"$out"
  interop_fidelity_screens "$name" "$out.fidelity"
  cat "$out.fidelity" >>"$out"
}

# The screens of issue 17 (colours.sh, text.sh; the pane is 100x30 by now),
# their snapshots to OUT: compared with the same screens under the real
# mosh-server, they show what a server keeps of what the application drew.
interop_fidelity_screens() {
  local name=$1 out=$2
  interop_run "$name" "clear; bash $E2E_DIR/colours.sh"
  wait_for_screen "$name" '^COLOURS-DONE' 10
  sleep 1
  interop_snapshot "$name" >>"$out"
  interop_joined_snapshot "$name" >>"$out"
  interop_run "$name" "clear; bash $E2E_DIR/text.sh"
  wait_for_screen "$name" '^TEXT-DONE' 10
  sleep 1
  interop_snapshot "$name" >>"$out"
  interop_joined_snapshot "$name" >>"$out"
}

# Only the issue 17 screens, in a window of the size interop_script ends with.
interop_fidelity_script() {
  local name=$1 out=$2
  wait_for_screen "$name" 'srv\$' 20
  tmux_cmd resize-window -t "$name" -x 100 -y 30
  interop_run "$name" 'echo size=$(tput cols)x$(tput lines)'
  wait_for_screen "$name" '^size=100x30' 10
  interop_torture_file
  interop_fidelity_screens "$name" "$out"
}

# Harder screen content: wrapping, a wide character at the last column,
# combining marks on blanks, a zero-width space, BCE erases, ECH/ICH/DCH,
# tabs, attributes mosh lacks (faint, strikethrough), bright colours, a
# scroll region, IL/DL, DECSC/DECRC, a title and bells, the alternate screen.
interop_torture_file() {
  cat >"$E2E_DIR/torture.sh" <<'TORTURE'
e=$'\e'
printf 'W%.0s' {1..150}; echo
printf 'a%.0s' {1..79}; printf '漢字\n'
printf '\xcc\x81x e\xcc\x81\xcc\x82 \xe2\x80\x8bzw\n'
printf '%s[44mblue-bg%s[K%s[0m\n' "$e" "$e" "$e"
printf '%s[41m%s[2Kred-line-erase%s[0m\n' "$e" "$e" "$e"
printf 'abcdefghij%s[5D%s[3X|\n' "$e" "$e"
printf '0123456789%s[5D%s[2@XY%s[3P\n' "$e" "$e" "$e"
printf 'a\tb\tc\td\n'
printf '%s[3;5;7mattrs%s[0m %s[9mstrike%s[0m %s[2mdim%s[0m %s[8mhidden%s[0m\n' \
  "$e" "$e" "$e" "$e" "$e" "$e" "$e" "$e"
printf '%s[92mbright%s[0m %s[105mbgbright%s[0m %s[38;5;8mgrey%s[0m\n' "$e" "$e" "$e" "$e" "$e" "$e"
printf '%s[14;20r%s[20;1H' "$e" "$e"
for i in 1 2 3 4 5 6 7 8 9; do printf 'region %d\n' "$i"; done
printf '%s[r' "$e"
printf '%s[22;1Hbefore-IL%s[22;1H%s[1Linserted%s[23;1H%s[1M' "$e" "$e" "$e" "$e" "$e"
printf '%s7%s[5;60Hsaved-moved%s8' "$e" "$e" "$e"
printf '%s]0;torture-title\a\a' "$e"
printf '%s[?1049halt-screen-text%s[?1049l' "$e" "$e"
printf '%s[24;70H%s[1;31mEND%s[0m' "$e" "$e" "$e"
TORTURE
  # Titles (UTF-8, icon/window, 300 characters), OSC 52, OSC 8, mouse,
  # focus, bracketed paste and cursor-key modes on and off, flashes of
  # reverse video and a hidden cursor, IRM, DECAWM off, DECALN, DECOM, TBC/HTS,
  # SO/SI, the DEC graphics charset.
  cat >"$E2E_DIR/modes.sh" <<'MODES'
e=$'\e'
printf '%s]0;title ünïcode 漢\a' "$e"
printf '%s]1;icon\a%s]2;window\a' "$e" "$e"
printf '%s]52;c;aGVsbG8=\a' "$e"
printf '%s[?2004h%s[?1000h%s[?1006h%s[?1004h%s[?1h%s=' "$e" "$e" "$e" "$e" "$e" "$e"
printf '%s[?5h' "$e"; sleep 0.3; printf '%s[?5l' "$e"
printf '%s[?25l' "$e"; sleep 0.3; printf '%s[?25h' "$e"
printf '%s]0;%s\a' "$e" "$(printf 'T%.0s' {1..300})"
printf '%s]8;;http://example.com\alink%s]8;;\a\n' "$e" "$e"
printf '%s[4hins%s[4l\n' "$e" "$e"
printf '%s[?7lnowrap-%s%s[?7h\n' "$e" "$(printf 'n%.0s' {1..120})" "$e"
printf '%s#8' "$e"; sleep 0.3; printf '%s[2J%s[H' "$e" "$e"
printf '%s[?6h%s[5;10r%s[1;1Horigin%s[?6l%s[r\n' "$e" "$e" "$e" "$e" "$e"
printf 'tabs\t%s[3g\t%sH\t|\n' "$e" "$e"
printf '%s[?1000l%s[?1006l%s[?1004l%s[?2004l%s[?1l%s>' "$e" "$e" "$e" "$e" "$e" "$e"
printf '\x0e\x0f\x07so-si\n'
printf '%s(0lqk%s(B\n' "$e" "$e"
printf 'MODES-%s\n' DONE
MODES
  # Every cell's SGR (issue 17): the 256 palette colours as foreground and
  # background, then 256 truecolor cells whose colours change at every cell,
  # one for each combination of bold, faint, italic, underline, blink,
  # inverse, concealed and strikethrough; then an SGR that a frame boundary
  # separates from its text (mosh-server leaves it out of the next frame).
  cat >"$E2E_DIR/colours.sh" <<'COLOURS'
e=$'\e'
for i in $(seq 0 255); do printf '%s[38;5;%d;48;5;%dm%x' "$e" $i $((255 - i)) $((i % 16)); done
printf '%s[0m\n' "$e"
a=(1 2 3 4 5 7 8 9) L=ABCDEFGHIJKLMNOPQRSTUVWXYZ
for i in $(seq 0 255); do
  s=0
  for b in 0 1 2 3 4 5 6 7; do (( (i >> b) & 1 )) && s="$s;${a[b]}"; done
  printf '%s[%s;38;2;%d;%d;%d;48;2;%d;%d;%dm%s' "$e" "$s" $(( (77 + i * 101) % 256 )) \
    $(( (101 + i * 53) % 256 )) $(( (178 + i * 29) % 256 )) $(( (178 + i * 29) % 256 )) \
    $(( (154 + i * 17) % 256 )) $(( (77 + i * 101) % 256 )) "${L:i % 26:1}"
done
printf '%s[0m\n' "$e"
printf 'pen %s[1;3;38;2;77;101;178;48;2;178;154;77m' "$e"; sleep 0.5
printf 'P%s[0m after\n' "$e"
printf 'COLOURS-%s\n' DONE
COLOURS
  # Wrapped long lines (one with an attribute run across the wrap point),
  # concealed text, lone combining marks: on an empty line, after a cursor
  # motion onto a blank, after a motion onto a character.
  cat >"$E2E_DIR/text.sh" <<'TEXT'
e=$'\e'
printf 'L%.0s' {1..230}; printf '\n'
printf 'x%.0s' {1..95}; printf '%s[1;32mGREEN-ACROSS-THE-WRAP%s[0m tail\n' "$e" "$e"
printf '%s[8mconcealed%s[0m visible %s[8;1;31mhidden-red%s[0m\n' "$e" "$e" "$e" "$e"
printf 'abc\n\314\202\ndef\n'
printf 'xy%s[1C\314\202Z\n' "$e"
printf 'abc\r\314\201X\n'
printf 'TEXT-%s\n' DONE
TEXT
}

interop_snapshot() {
  tmux_cmd capture-pane -p -e -t "$1"
  tmux_cmd display-message -p -t "$1" 'cursor=#{cursor_x},#{cursor_y} size=#{pane_width}x#{pane_height}'
}

# Which lines wrap, as the client draws them from scratch. tmux keeps a
# line's "wrapped" mark across later writes in ways terminals do not share
# (a full-line clear drops the mark of the line above, a line feed may keep
# it), so two clients that agree on every line can leave tmux with
# different marks after different sequences of updates; a window resize
# (one row taller, then back) makes both repaint everything first.
interop_joined_snapshot() {
  local h
  h=$(tmux_cmd display-message -p -t "$1" '#{pane_height}')
  tmux_cmd resize-window -t "$1" -y $((h + 1))
  sleep 0.7
  tmux_cmd resize-window -t "$1" -y "$h"
  sleep 1
  echo "joined:"
  tmux_cmd capture-pane -p -e -J -t "$1"
}

# A client in tmux whose exit status lands in $E2E_DIR/NAME.status (tmux
# 3.3 sometimes marks a pane dead without ever reporting its status).
interop_client_start() {
  local name=$1 cols=$2 rows=$3; shift 3
  rm -f "$E2E_DIR/$name.status"
  tmux_start "$name" "$cols" "$rows" sh -c '"$@"; echo $? >"$0"' "$E2E_DIR/$name.status" "$@"
}

interop_exit() {
  interop_run "$1" 'exit'
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$E2E_DIR/$1.status" ] && break
    sleep 0.1
  done
  local status
  status=$(cat "$E2E_DIR/$1.status" 2>/dev/null)
  [ "$status" = 0 ] || fail "client in '$1' exited with status '$status'"
}

# Fails unless the two snapshots are identical (shows the difference): every
# cell's text and exact SGR, and which lines wrapped.
interop_compare() {
  local a=$1 b=$2
  # Cells, not escape sequences: EL versus written spaces leave the same
  # screen but a different capture (screen_cells.py).
  python3 cmd/e2e/screen_cells.py <"$a" >"$a.cells"
  python3 cmd/e2e/screen_cells.py <"$b" >"$b.cells"
  a=$a.cells b=$b.cells
  if ! diff -u "$a" "$b" >&2; then
    fail "screens differ between $(basename "$a") and $(basename "$b")"
  fi
  echo "identical screens ($(wc -l <"$a") lines):"
  cat -v "$a"
}
