#!/usr/bin/env bash
# `moshx bootstrap` against a real sshd on loopback and an unprivileged user
# (moshx-boot) whose home starts without moshx: installs, finds it the second
# time, draws a progress bar on a terminal, survives a killed upload, reports
# a read-only home clearly, and `moshx connect` (--bootstrap auto, the
# default) works on a clean account in one command and runs the uploaded
# copy. Then the account's uname -m says aarch64: the aarch64 build
# (//:moshx_aarch64) is uploaded from beside the binary or from
# $XDG_DATA_HOME/moshx, verified by checksum on the remote, and without one
# the error says where it looked. Needs root (sshd fixture, mount, usermod).
source tools/testing/e2e_lib.sh
source tools/testing/sshd_fixture.sh
e2e_init

[ "$(id -u)" -eq 0 ] || fail "this test needs root (private sshd, test user)"
MOSHX=$PWD/cmd/moshx
[ -x "$MOSHX" ] || fail "no moshx binary at $MOSHX"
SIZE=$(stat -L -c %s "$MOSHX")
BOOT_MOUNT=
BOOT_SHELL_CHANGED=

boot_cleanup() {
  [ -n "$BOOT_MOUNT" ] && umount "$BOOT_MOUNT" 2>/dev/null
  [ -n "$BOOT_SHELL_CHANGED" ] && usermod -s /bin/bash moshx-boot 2>/dev/null
  if [ -n "${E2E_SSH_HOME:-}" ]; then  # leave the account as clean as we found it
    chmod 755 "$E2E_SSH_HOME" 2>/dev/null
    rm -rf "$E2E_SSH_HOME/.local"
  fi
  e2e_cleanup
}
trap boot_cleanup EXIT

sshd_start moshx-boot
RHOME=$E2E_SSH_HOME
DEST=$RHOME/.local/bin/moshx

# A clean account: only the fixture's .ssh stays.
reset_home() {
  chmod 755 "$RHOME"
  find "$RHOME" -mindepth 1 -maxdepth 1 ! -name .ssh -exec rm -rf {} +
}
reset_home

bootstrap() { "$MOSHX" bootstrap --ssh "$E2E_SSH" "$@" "$E2E_SSH_DEST"; }
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
leftovers() { ls -A "$(dirname "$DEST")" 2>/dev/null | grep -c '^\.moshx-bootstrap' ; }

# 1. A clean account gets this very binary, owned by the user, mode 755.
start=$(date +%s.%N)
out=$(bootstrap --json) || fail "bootstrap failed: $out"
end=$(date +%s.%N)
echo "first run: $out"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "--json printed more than one line"
[ "$(echo "$out" | json_field action)" = installed ] || fail "not installed: $out"
[ "$(echo "$out" | json_field bytes)" = "$SIZE" ] || fail "bytes != $SIZE: $out"
cmp -s "$MOSHX" "$DEST" || fail "remote copy differs from the binary"
[ "$(stat -c '%a %U' "$DEST")" = "755 moshx-boot" ] || fail "mode/owner: $(stat -c '%a %U' "$DEST")"
[ "$(leftovers)" = 0 ] || fail "temporary files left: $(ls -A "$(dirname "$DEST")")"
echo "MEASURED upload of $SIZE bytes (fastbuild binary), whole command $(awk "BEGIN{print $end - $start}") s," \
  "upload $(echo "$out" | json_field seconds) s"
su -s /bin/sh moshx-boot -c "$DEST --version" | grep -q "^moshx " || fail "installed copy does not run"

# 2. The second run finds the same build and uploads nothing.
out=$(bootstrap --json) || fail "second bootstrap failed: $out"
[ "$(echo "$out" | json_field action)" = unchanged ] || fail "second run: $out"
[ "$(echo "$out" | json_field bytes)" = 0 ] || fail "second run uploaded: $out"
human=$(bootstrap 2>&1) || fail "human run failed: $human"
echo "$human" | grep -q "already has this build at $DEST (sha256 checked with sha256sum); nothing uploaded" ||
  fail "human summary: $human"

# 3. On a terminal: a progress bar while uploading.
# The pane's history counts too (capture-pane -S -): the bar was once seen
# missing from the visible rows of a finished pane in a loaded full run,
# cause not reproduced (16 runs passed); on failure the pane's raw bytes
# (pipe-pane) and its whole history are printed to tell what happened.
# The command waits for pipe-pane and remain-on-exit to be in place first.
tmux_start bar 120 10 sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done; exec "$@"' \
  "$E2E_DIR/bar.go" "$MOSHX" bootstrap --force --ssh "$E2E_SSH" "$E2E_SSH_DEST"
tmux_cmd pipe-pane -o -t bar "cat >>'$E2E_DIR/bar.raw'"
touch "$E2E_DIR/bar.go"
bar_history() { tmux_cmd capture-pane -p -S - -t bar; }
wait_for_bar() {  # REGEX SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    bar_history | grep -Eq -- "$1" && return 0
    sleep 0.1
  done
  echo "--- raw bytes the pane received ---" >&2
  od -c "$E2E_DIR/bar.raw" >&2
  echo "--- the pane with its history ---" >&2
  bar_history >&2
  fail "the pane 'bar' never showed /$1/ within $2 s"
}
wait_for_bar 'uploading \[#{30}\] 100%' 30
wait_for_bar "replaced build .* at $DEST" 30

# 4. A killed upload leaves the old binary (or nothing) in place.
cat >"$E2E_DIR/slow_ssh" <<'EOF'
#!/bin/bash
# ssh with its input slowed to 16 KiB per 50 ms; ssh's PID goes to $SLOW_SSH_PIDFILE.
fifo=$(mktemp -u "$E2E_DIR/slow.XXXXXX")
mkfifo "$fifo"
ssh "$@" <"$fifo" &
pid=$!
echo "$pid" >"$SLOW_SSH_PIDFILE"
exec 3>"$fifo"
rm -f "$fifo"
while :; do  # one read of at most 16 KiB each; stop at end of input or a dead ssh
  records=$(dd bs=16384 count=1 2>&1 >&3) || break
  case $records in "0+0 records in"*) break ;; esac
  sleep 0.05
done 2>/dev/null
exec 3>&-
wait "$pid"
EOF
chmod +x "$E2E_DIR/slow_ssh"
export E2E_DIR SLOW_SSH_PIDFILE=$E2E_DIR/ssh.pid
SLOW_SSH="$E2E_DIR/slow_ssh ${E2E_SSH#ssh }"

killed_upload() {  # $1: what should be at $DEST afterwards ("missing" or a file)
  rm -f "$SLOW_SSH_PIDFILE"
  "$MOSHX" bootstrap --force --json --ssh "$SLOW_SSH" "$E2E_SSH_DEST" >"$E2E_DIR/killed.out" 2>&1 &
  local boot=$! tmp i
  e2e_track_pid $boot
  for ((i = 0; i < 200; i++)); do  # until the upload is under way (> 100 kB)
    tmp=$(ls "$(dirname "$DEST")"/.moshx-bootstrap.*/moshx 2>/dev/null | head -1)
    [ -n "$tmp" ] && [ "$(stat -c %s "$tmp" 2>/dev/null || echo 0)" -gt 100000 ] && break
    sleep 0.05
  done
  [ -n "$tmp" ] || fail "the upload never started: $(cat "$E2E_DIR/killed.out")"
  kill "$(cat "$SLOW_SSH_PIDFILE")"
  wait_for_exit_status=0
  wait "$boot" || wait_for_exit_status=$?
  [ "$wait_for_exit_status" = 1 ] || fail "killed bootstrap exited $wait_for_exit_status"
  grep -q '"ok":false' "$E2E_DIR/killed.out" || fail "no JSON error: $(cat "$E2E_DIR/killed.out")"
  for ((i = 0; i < 100; i++)); do  # the remote trap removes the temporary file
    [ "$(leftovers)" = 0 ] && break
    sleep 0.05
  done
  [ "$(leftovers)" = 0 ] || fail "temporary file left after the kill"
  if [ "$1" = missing ]; then
    [ ! -e "$DEST" ] || fail "a half-written $DEST appeared"
  else
    cmp -s "$1" "$DEST" || fail "$DEST is no longer the old binary"
  fi
  echo "killed upload: $(cat "$E2E_DIR/killed.out" | head -1)"
}
printf '#!/bin/sh\necho old moshx\n' >"$E2E_DIR/old"
install -m 755 -o moshx-boot "$E2E_DIR/old" "$DEST"
killed_upload "$E2E_DIR/old"
rm -f "$DEST"
killed_upload missing

# 5. A read-only home: a clear error, nothing written.
reset_home
chmod 555 "$RHOME"
out=$(bootstrap 2>&1) && fail "bootstrap into a non-writable home succeeded"
echo "non-writable home: $out"
echo "$out" | grep -q "cannot write $DEST: .*Permission denied.*--dest" || fail "unclear error: $out"
chmod 755 "$RHOME"
if mount --bind "$RHOME" "$RHOME" 2>/dev/null; then
  BOOT_MOUNT=$RHOME
  mount -o remount,ro,bind "$RHOME" || fail "cannot remount read-only"
  out=$(bootstrap --json 2>/dev/null) && fail "bootstrap into a read-only home succeeded"
  echo "read-only home: $out"
  echo "$out" | grep -q '"ok":false,"error":".*Read-only file system' || fail "unclear error: $out"
  umount "$RHOME"
  BOOT_MOUNT=
else
  echo "note: mount not permitted; read-only file system case not run (permission case ran)"
fi
[ ! -e "$RHOME/.local" ] || fail "something was written into the read-only home"

# 6. `moshx connect` to a clean account: --bootstrap never gives the hint,
# the default (auto) installs and runs the uploaded copy in one command.
reset_home
# moshx connect in a tmux window running /bin/sh; its exit status goes to
# $E2E_DIR/NAME.status (the screen after the client exits is not reliable).
connect() {  # NAME ARGS...
  local name=$1; shift
  tmux_start "$name" 100 24 sh -c "TERM=xterm-256color LANG=C.UTF-8 \"$MOSHX\" connect \
    --ssh \"$E2E_SSH\" $* $E2E_SSH_DEST -- /bin/sh; echo \$? >$E2E_DIR/$name.status"
}
tmux_start never 100 24 sh -c "\"$MOSHX\" connect --bootstrap never --ssh \"$E2E_SSH\" \
  $E2E_SSH_DEST; echo status=\$?"
wait_for_screen never 'status=1' 20
wait_for_screen never 'moshx bootstrap' 1
[ ! -e "$DEST" ] || fail "--bootstrap never uploaded"

connect_and_check() {  # NAME ARGS...: a session as the test user, served by $DEST
  local name=$1; shift
  connect "$name" "$@"
  wait_for_screen "$name" '\$ *$' 30
  tmux_type "$name" 'echo "I am $(id -un), served by ppid=$PPID"'
  tmux_keys "$name" Enter
  wait_for_screen "$name" "^I am moshx-boot, served by ppid=[0-9]+" 15
  [ "$(exe_of_printed_ppid "$name")" = "$DEST" ] ||
    fail "($name) served by $(exe_of_printed_ppid "$name"), not $DEST"
  tmux_type "$name" 'exit'
  tmux_keys "$name" Enter
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$E2E_DIR/$name.status" ] && break
    sleep 0.1
  done
  [ "$(cat "$E2E_DIR/$name.status" 2>/dev/null)" = 0 ] ||
    fail "connect ($name) exit status '$(cat "$E2E_DIR/$name.status" 2>/dev/null)'"
}
connect_and_check auto1
cmp -s "$MOSHX" "$DEST" || fail "connect --bootstrap auto did not install this binary"
before=$(stat -c '%i %Y' "$DEST")
connect_and_check auto2 --bootstrap auto
[ "$(stat -c '%i %Y' "$DEST")" = "$before" ] || fail "the second connect uploaded again"
connect_and_check always --bootstrap always
[ "$(stat -c '%i' "$DEST")" != "${before% *}" ] || fail "--bootstrap always did not upload"

# 7. A remote whose uname -m says aarch64: the account's login shell puts a
# uname wrapper first on its PATH.
ARM=$PWD/moshx_aarch64
[ -f "$ARM" ] || fail "no aarch64 build at $ARM"
ARM_SHA256=$(sha256sum <"$ARM" | cut -d' ' -f1)
world=$(sshd_world_dir)
mkdir -p "$world/bin"
printf '%s\n' '#!/bin/sh' '# uname, but the machine is aarch64.' \
  'case "$1" in -m) echo aarch64 ;; *) exec /bin/uname "$@" ;; esac' >"$world/bin/uname"
printf '%s\n' '#!/bin/sh' '# Login shell of the "aarch64" account: bash, the fake uname first on PATH.' \
  "PATH=$world/bin:/usr/local/bin:/usr/bin:/bin" 'export PATH' 'exec /bin/bash "$@"' \
  >"$world/aarch64-shell"
chmod 755 "$world/bin/uname" "$world/aarch64-shell"
BOOT_SHELL_CHANGED=1
usermod -s "$world/aarch64-shell" moshx-boot || fail "cannot change the test account's shell"
[ "$($E2E_SSH "$E2E_SSH_DEST" uname -m)" = aarch64 ] || fail "the account's uname -m is not aarch64"

# This moshx runs from a directory of its own, as after tools/release.
reset_home
mkdir -p "$E2E_DIR/dist" "$E2E_DIR/alone" "$E2E_DIR/data/moshx"
cp "$MOSHX" "$E2E_DIR/dist/moshx"
cp "$ARM" "$E2E_DIR/dist/moshx-linux-aarch64"
cp "$MOSHX" "$E2E_DIR/alone/moshx"
arm_bootstrap() {  # DIR XDG_DATA_HOME ARGS...: bootstrap with DIR/moshx
  local dir=$1 data=$2
  shift 2
  XDG_DATA_HOME=$data "$dir/moshx" bootstrap --ssh "$E2E_SSH" "$@" "$E2E_SSH_DEST"
}
remote_sha256() { $E2E_SSH "$E2E_SSH_DEST" sha256sum .local/bin/moshx | cut -d' ' -f1; }

# Without an aarch64 build: where it looked and how to get one; nothing written.
out=$(arm_bootstrap "$E2E_DIR/alone" "$E2E_DIR/data" 2>&1) &&
  fail "bootstrap without an aarch64 build succeeded: $out"
echo "no aarch64 build: $out"
looked="looked for $E2E_DIR/alone/moshx-linux-aarch64 (not there) and"
looked="$looked $E2E_DIR/data/moshx/moshx-linux-aarch64 (not there)"
echo "$out" | grep -qF "$looked" || fail "unclear error: $out"
echo "$out" | grep -q "tools/release" || fail "no hint how to get a build: $out"
[ ! -e "$RHOME/.local" ] || fail "something was written without an aarch64 build"

# Beside the binary: uploaded, then found the second time.
out=$(arm_bootstrap "$E2E_DIR/dist" "$E2E_DIR/data" --json) || fail "aarch64 bootstrap failed: $out"
echo "aarch64 build beside the binary: $out"
[ "$(echo "$out" | json_field action)" = installed ] || fail "not installed: $out"
[ "$(echo "$out" | json_field arch)" = aarch64 ] || fail "arch: $out"
[ "$(echo "$out" | json_field binary)" = "$E2E_DIR/dist/moshx-linux-aarch64" ] || fail "binary: $out"
[ "$(echo "$out" | json_field sha256)" = "$ARM_SHA256" ] || fail "sha256: $out"
[ "$(remote_sha256)" = "$ARM_SHA256" ] || fail "the remote's sha256 of $DEST is not the aarch64 build's"
[ "$(stat -c '%a %U' "$DEST")" = "755 moshx-boot" ] || fail "mode/owner: $(stat -c '%a %U' "$DEST")"
out=$(arm_bootstrap "$E2E_DIR/dist" "$E2E_DIR/data" --json) || fail "second aarch64 bootstrap: $out"
[ "$(echo "$out" | json_field action)" = unchanged ] || fail "second aarch64 run: $out"

# In $XDG_DATA_HOME/moshx.
reset_home
cp "$ARM" "$E2E_DIR/data/moshx/moshx-linux-aarch64"
out=$(arm_bootstrap "$E2E_DIR/alone" "$E2E_DIR/data") || fail "aarch64 bootstrap from the data dir: $out"
echo "aarch64 build from XDG_DATA_HOME: $out"
echo "$out" | grep -qF "(the aarch64 build, $E2E_DIR/data/moshx/moshx-linux-aarch64) at $DEST" ||
  fail "summary: $out"
[ "$(remote_sha256)" = "$ARM_SHA256" ] || fail "the remote's sha256 of $DEST is not the aarch64 build's"

echo PASS
