# sshd_fixture.sh — a private sshd on loopback for end-to-end tests (sourced
# after e2e_lib.sh; needs root, openssh-server and e2e_init first).
#
#   sshd_start [USER]   create USER (default moshx-e2e) if missing, start sshd
#                       on a free 127.0.0.1 port with key-only authentication;
#                       sets E2E_SSH (an ssh command line for --ssh),
#                       E2E_SSH_DEST (USER@127.0.0.1), E2E_SSH_USER, E2E_SSH_HOME.
#   sshd_world_dir      prints a fresh directory every user can read (the test
#                       user cannot see Bazel's runfiles under /root)
#   sshd_ensure_user USER   create/unlock the account only (netns_lib.sh's
#                       netns_sshd starts sshds inside network namespaces)
#
# sshd and the directory are removed by e2e_cleanup / the EXIT trap.

sshd_free_port() {
  local port start=$((22220 + RANDOM % 700))
  # A random start, so tests running in parallel rarely try the same port.
  for port in $(seq "$start" 22999) $(seq 22220 "$start"); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

sshd_world_dir() {
  local d
  d=$(mktemp -d /tmp/moshx-e2e-world.XXXXXX)
  chmod 755 "$d"
  # Callers use world=$(sshd_world_dir): a subshell, whose E2E_WORLD_DIRS
  # never reaches e2e_cleanup. The list file in $E2E_DIR does.
  E2E_WORLD_DIRS+=("$d")
  echo "$d" >>"$E2E_DIR/world-dirs"
  echo "$d"
}

# sshd_lock_account USER: hold a machine-wide lock on USER's account until
# this test's shell exits (sshd_start takes it). Those tests change the
# account (~/.ssh/authorized_keys, its shell, files in its home, its session
# host), and tests of other checkouts, run by other Bazel servers that
# "exclusive" does not reach, use the same account: without the lock one
# test's key or binary replaced another's mid-run. (netns_sshd needs no lock:
# its sshds read a key file private to the test.) Waits at most
# MOSHX_ACCOUNT_LOCK_WAIT seconds (default 600). e2e_cleanup releases it.
sshd_lock_account() {
  local user=$1 var="SSHD_LOCKED_${1//[^a-zA-Z0-9]/_}"
  [ -z "${!var:-}" ] || return 0
  local fd
  exec {fd}>>"/run/lock/moshx-test-account-$user.lock" ||
    fail "cannot open the lock file for account $user"
  if ! flock -n "$fd"; then
    echo "waiting for another test (another checkout?) to release account $user" >&2
    flock -w "${MOSHX_ACCOUNT_LOCK_WAIT:-600}" "$fd" ||
      fail "account $user stayed locked by another test for ${MOSHX_ACCOUNT_LOCK_WAIT:-600} s"
  fi
  printf -v "$var" '%s' "$fd"
  E2E_LOCK_FDS+=("$fd")
}

# sshd_ensure_user USER: an unprivileged account sshd accepts key logins
# for (created if missing; tolerates another test creating it meanwhile).
sshd_ensure_user() {
  local user=$1
  if ! getent passwd "$user" >/dev/null; then
    useradd -m -s /bin/bash "$user" 2>/dev/null || getent passwd "$user" >/dev/null ||
      fail "cannot create user $user"
  fi
  # A fresh account's password is "!" (locked), which sshd refuses even for
  # key logins; "*" means "no password" without the lock.
  [ "$(getent shadow "$user" | cut -d: -f2)" = '*' ] || usermod -p '*' "$user" ||
    fail "cannot unlock $user"
}

sshd_start() {
  E2E_SSH_USER=${1:-moshx-e2e}
  [ "$(id -u)" -eq 0 ] || fail "sshd_start needs root"
  [ -x /usr/sbin/sshd ] || fail "openssh-server is not installed (tools/setup --test)"
  sshd_lock_account "$E2E_SSH_USER"
  sshd_ensure_user "$E2E_SSH_USER"
  E2E_SSH_HOME=$(getent passwd "$E2E_SSH_USER" | cut -d: -f6)
  local dir=$E2E_DIR/sshd port
  mkdir -p "$dir" /run/sshd
  chmod 755 /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" || fail "ssh-keygen (host)"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" || fail "ssh-keygen (client)"
  install -d -m 700 -o "$E2E_SSH_USER" "$E2E_SSH_HOME/.ssh"
  install -m 600 -o "$E2E_SSH_USER" "$dir/client_key.pub" "$E2E_SSH_HOME/.ssh/authorized_keys"
  port=$(sshd_free_port) || fail "no free port for sshd"
  cat >"$dir/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
AcceptEnv LANG LC_*
CFG
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
  e2e_track_pid $!
  E2E_SSH="ssh -F /dev/null -p $port -i $dir/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
  E2E_SSH_DEST=$E2E_SSH_USER@127.0.0.1
  local i
  for ((i = 0; i < 50; i++)); do
    $E2E_SSH "$E2E_SSH_DEST" true 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$dir/sshd.log" >&2
  fail "sshd on port $port did not accept the test key"
}
