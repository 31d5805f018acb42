#!/usr/bin/env bash
# `moshx connect --local` driven in tmux, as a user would: run a command and
# see its output; resize the window and see `stty size` follow; Ctrl-^ . quits
# and leaves the terminal exactly as it was (`stty -a` before == after); the
# shell's `exit` ends the client with status 0, leaving the session's last
# screen (moshx mode draws on the primary screen, whose scrollback gets the
# session's history, issue 14) and no error.
source tools/testing/e2e_lib.sh
e2e_init
MOSHX=$(realpath cmd/moshx)

# An outer shell in tmux; the client runs inside it like a user would start it.
tmux_start t 90 25 env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color LANG=C.UTF-8 \
  PS1='outer$ ' /bin/bash --norc --noprofile
wait_for_screen t 'outer\$' 10
tmux_type t "stty -a > $E2E_DIR/stty.before; clear"
tmux_keys t Enter
sleep 0.3
tmux_type t "$MOSHX connect --local -- /usr/bin/env PS1='in\$ ' /bin/bash --norc --noprofile; echo client-exit=\$?"
tmux_keys t Enter
wait_for_screen t '^in\$' 15

# 1. A command and its output.
tmux_type t 'echo output-$((6*7))'
tmux_keys t Enter
wait_for_screen t '^output-42' 10

# 2. Resizing the window reaches the remote shell.
tmux_type t 'stty size'
tmux_keys t Enter
wait_for_screen t '^25 90' 10
tmux_cmd resize-window -t t -x 100 -y 30
sleep 0.5
tmux_type t 'clear; stty size'
tmux_keys t Enter
wait_for_screen t '^30 100' 10

# 3. Ctrl-^ . quits and restores the terminal exactly.
tmux_keys t C-^
wait_for_screen t 'Commands: Ctrl-Z suspends' 5
tmux_type t '.'
wait_for_screen t 'client-exit=0' 15
tmux_type t "stty -a > $E2E_DIR/stty.after"
tmux_keys t Enter
sleep 0.5
# The size changed with the window; every mode must be identical.
diff <(sed 1d "$E2E_DIR/stty.before") <(sed 1d "$E2E_DIR/stty.after") ||
  fail "stty -a differs after Ctrl-^ ."

# 4. The remote shell's exit ends the client with status 0; the last screen
#    stays, as with ssh, and the client's shell continues below it.
tmux_type t 'clear'
tmux_keys t Enter
sleep 0.3
tmux_type t "$MOSHX connect --local -- /usr/bin/env PS1='in\$ ' /bin/bash --norc --noprofile; echo second-exit=\$?"
tmux_keys t Enter
wait_for_screen t '^in\$' 15
tmux_type t 'echo inside-session'
tmux_keys t Enter
wait_for_screen t '^inside-session' 10
tmux_type t 'exit'
tmux_keys t Enter
wait_for_screen t 'second-exit=0' 15
screen=$(tmux_cmd capture-pane -p -t t -S - -E -)
[ "$(echo "$screen" | grep -c '^inside-session')" = 1 ] || fail "the session's last screen is not kept once"
echo "$screen" | grep -q 'moshx did not' && fail "unclean exit message"
echo PASS
