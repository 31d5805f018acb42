# netns_lib.sh — network namespaces joined by an emulated link, for end-to-end
# tests and benchmarks (sourced after e2e_lib.sh and sshd_fixture.sh; needs
# root). The link is tools/netem's TUN relay (delay, jitter, loss, rate limit
# with a bounded queue, freeze, protocol drop); see tools/netem/README.md for
# a complete example. Put "//tools/testing:netns_lib" in the test's data.
#
#   netns_init                    after e2e_init: checks, cleanup traps, and
#                                 removes namespaces left by killed tests
#   netns_create ROLE...          one namespace per ROLE ([a-z0-9_], <= 12
#                                 chars), loopback up, IPv6 off;
#                                 NETNS_NAME[ROLE] is its `ip netns` name
#   netns_relay [--link LINKS:SPEC]... [--seed N] ROLE...
#                                 start the relay between these namespaces;
#                                 ROLE number i (from 1) owns 10.77.i.0/24
#                                 and gets NETNS_ADDR[ROLE]=10.77.i.2. Call it
#                                 directly, not in $(...) (the relay stops
#                                 when the shell that started it exits).
#   netns_link LINKS SPEC         change links at run time, e.g.
#                                 netns_link client delay=25ms,loss=5%
#                                 (LINKS: all | ROLE | ROLE.up | ROLE.down)
#   netns_ctl COMMAND...          any relay command (tun_relay ctl ... help)
#   netns_stat KEY                one relay counter, e.g. client.up.udp.in_packets
#   netns_freeze SECONDS [LINKS]  blackhole (default: every link) for a while
#   netns_veth ROLE_A ROLE_B      a clean veth cable between two namespaces:
#                                 NETNS_PEER_ADDR[A>B] is B's address as A
#                                 reaches it (10.78.k.2), [B>A] is A's
#   netns_exec ROLE CMD...        run CMD in ROLE's namespace (foreground)
#   netns_bg ROLE CMD...          run CMD there in the background (tracked,
#                                 killed at cleanup); its PID in NETNS_BG_PID
#   netns_sshd ROLE [ADDR]        a private sshd on port 22 of ROLE's
#                                 namespace, key-only, for the unprivileged
#                                 test user; writes Host ROLE (HostName ADDR,
#                                 default its relay address, else its first
#                                 veth address) into NETNS_SSH_CONFIG.
#                                 NETNS_SSH="ssh -F $NETNS_SSH_CONFIG", so
#                                 `netns_exec client $NETNS_SSH server cmd`
#                                 and `... $NETNS_SSH -J jump server` work
#   netns_sshd_restart ROLE       stop that sshd (its sessions live on) and
#                                 start it again with the same keys
#   netns_udp_block ROLE [PEER...]  nftables in ROLE and each PEER (default:
#                                 every other namespace) silently drop UDP
#                                 between them, both ways; TCP is untouched
#   netns_udp_unblock ROLE [PEER...]  remove those rules
#   netns_roam ROLE               move ROLE's relay address to the next one
#                                 in its /24 (add new, delete old): sockets
#                                 bound to the old address stop working, as
#                                 on a real network change
#   netns_cleanup                 (also the EXIT trap) kill every process in
#                                 our namespaces, stop the relay, delete the
#                                 namespaces; never touches anything else.
#                                 After a failure it prints the relay's links
#                                 and non-zero counters to stderr first.
#
# Outside Bazel (a benchmark script), set NETNS_RELAY_BIN and NETNS_PROBE_BIN
# to the built tools/netem binaries before netns_init.
#
# Namespaces are named mxnet-<shell PID>-<ROLE>; their addresses (10.77.0.0/16
# on the relay, 10.78.0.0/16 on veth cables) exist only inside them. The host
# namespace gets no device, address or route. A test killed outright (SIGKILL)
# leaves its namespaces until the next netns_init on the machine deletes the
# ones whose shell is gone.

NETNS_RELAY_BIN=${NETNS_RELAY_BIN:-}
NETNS_PROBE_BIN=${NETNS_PROBE_BIN:-}

netns_init() {
  [ -n "${E2E_DIR:-}" ] || fail "netns_init: call e2e_init first"
  [ "$(id -u)" -eq 0 ] || fail "netns_lib needs root (network namespaces, TUN)"
  command -v ip >/dev/null || fail "iproute2 is not installed (tools/setup --test)"
  [ -c /dev/net/tun ] || fail "no /dev/net/tun on this machine"
  if [ -z "$NETNS_RELAY_BIN" ]; then
    NETNS_RELAY_BIN=$(realpath tools/netem/tun_relay 2>/dev/null) ||
      fail "tools/netem/tun_relay not in the runfiles (data: //tools/testing:netns_lib)"
  fi
  if [ -z "$NETNS_PROBE_BIN" ]; then
    NETNS_PROBE_BIN=$(realpath tools/netem/netem_probe 2>/dev/null) || NETNS_PROBE_BIN=
  fi
  NETNS_ID=$$
  NETNS_ROLES=()
  NETNS_RELAY_ROLES=()
  NETNS_RELAY_PID=
  NETNS_RELAY_SOCK=$E2E_DIR/relay.sock
  NETNS_VETH_COUNT=0
  NETNS_CLEANED=0
  NETNS_SSH_DIR=$E2E_DIR/netns-ssh
  NETNS_SSH_CONFIG=$NETNS_SSH_DIR/config
  NETNS_SSH="ssh -F $NETNS_SSH_CONFIG"
  NETNS_SSH_USER=${NETNS_SSH_USER:-moshx-e2e}
  declare -gA NETNS_NAME=() NETNS_ADDR=() NETNS_PREFIX=() NETNS_PEER_ADDR=()
  declare -gA NETNS_SSHD_PID=() NETNS_SSHD_ADDR=()
  netns_sweep_stale
  trap 'netns_cleanup; e2e_cleanup' EXIT  # netns_cleanup reads the exit status
  trap 'exit 143' TERM
  trap 'exit 130' INT
  trap 'exit 129' HUP
}

# Deletes namespaces of this library whose test shell no longer runs (a test
# killed with SIGKILL cannot clean up), with the processes inside them.
netns_sweep_stale() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $ns =~ ^mxnet-([0-9]+)- ]] || continue
    pid=${BASH_REMATCH[1]}
    [ "$pid" = "$$" ] && continue
    kill -0 "$pid" 2>/dev/null && continue
    echo "netns_lib: deleting stale namespace $ns" >&2
    netns__kill_inside "$ns"
    ip netns del "$ns" 2>/dev/null
  done
}

# Kills every process whose network namespace is $1 (TERM, then KILL).
netns__kill_inside() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] || return 0
  kill $pids 2>/dev/null
  for ((i = 0; i < 20; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  kill -9 $pids 2>/dev/null
}

netns_create() {
  local role ns
  for role in "$@"; do
    [[ $role =~ ^[a-z0-9_]{1,12}$ ]] || fail "netns_create: bad role '$role'"
    [ -z "${NETNS_NAME[$role]:-}" ] || fail "netns_create: '$role' exists"
    ns=mxnet-$NETNS_ID-$role
    ip netns add "$ns" || fail "ip netns add $ns"
    NETNS_NAME[$role]=$ns
    NETNS_ROLES+=("$role")
    ip -n "$ns" link set lo up || fail "lo up in $ns"
    # IPv4 only: no IPv6 router solicitations or DAD on the links.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
      net.ipv6.conf.default.disable_ipv6=1 >/dev/null || fail "sysctl in $ns"
  done
}

# Sets NS to the namespace of role $1 (fails the test for an unknown role).
netns__ns() {
  NS=${NETNS_NAME[$1]:-}
  [ -n "$NS" ] || fail "no namespace for role '$1' (netns_create it)"
}

netns_relay() {
  local args=() role i ns max NS
  while [ $# -gt 0 ]; do
    case "$1" in
      --link|--seed) args+=("$1" "$2"); shift 2 ;;
      *) break ;;
    esac
  done
  [ $# -ge 2 ] || fail "netns_relay: at least two roles"
  [ -z "$NETNS_RELAY_PID" ] || fail "netns_relay: one relay per test"
  i=0
  for role in "$@"; do
    i=$((i + 1))
    netns__ns "$role"; ns=$NS
    NETNS_PREFIX[$role]=10.77.$i
    args+=(--port "$role:/run/netns/$ns:10.77.$i.0/24")
  done
  # Outlive no test: Bazel's timeout (TEST_TIMEOUT) plus a margin.
  max=$(( ${TEST_TIMEOUT:-600} + 60 ))
  # SCHED_FIFO: delays stay within ~0.5 ms of the setting on a busy machine.
  "$NETNS_RELAY_BIN" "${args[@]}" --control "$NETNS_RELAY_SOCK" --max-seconds "$max" \
    --realtime "${NETNS_RELAY_REALTIME:-10}" \
    >"$E2E_DIR/relay.out" 2>&1 &
  NETNS_RELAY_PID=$!
  e2e_track_pid "$NETNS_RELAY_PID"
  for ((i = 0; i < 100; i++)); do
    grep -q '^tun_relay ready' "$E2E_DIR/relay.out" && break
    kill -0 "$NETNS_RELAY_PID" 2>/dev/null ||
      fail "tun_relay did not start: $(cat "$E2E_DIR/relay.out")"
    sleep 0.05
  done
  grep -q '^tun_relay ready' "$E2E_DIR/relay.out" ||
    fail "tun_relay not ready after 5 s: $(cat "$E2E_DIR/relay.out")"
  for role in "$@"; do
    netns__ns "$role"; ns=$NS
    # Keep the route when the first address goes (roaming adds, then deletes).
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.netem0.promote_secondaries=1 \
      >/dev/null || fail "sysctl promote_secondaries in $ns"
    ip -n "$ns" addr add "${NETNS_PREFIX[$role]}.2/24" dev netem0 &&
      ip -n "$ns" route add 10.77.0.0/16 dev netem0 ||
      fail "addresses in $ns"
    NETNS_ADDR[$role]=${NETNS_PREFIX[$role]}.2
    NETNS_RELAY_ROLES+=("$role")
  done
}

netns_ctl() {
  [ -n "$NETNS_RELAY_PID" ] || fail "netns_ctl: no relay (netns_relay)"
  "$NETNS_RELAY_BIN" ctl "$NETNS_RELAY_SOCK" "$@"
}

netns_link() {
  [ $# -eq 2 ] || fail "usage: netns_link LINKS SPEC"
  netns_ctl set "$1" "$2" >/dev/null || fail "netns_link $*: $(netns_ctl set "$1" "$2")"
}

netns_stat() {
  local v
  v=$(netns_ctl stats | sed -n "s/^$1=//p")
  [ -n "$v" ] || fail "netns_stat: no counter '$1'"
  echo "$v"
}

netns_freeze() {
  netns_ctl freeze "$@" >/dev/null || fail "netns_freeze $*"
}

netns_exec() {
  local NS
  netns__ns "$1"
  shift
  ip netns exec "$NS" "$@"
}

netns_bg() {
  local NS
  netns__ns "$1"
  shift
  ip netns exec "$NS" "$@" &
  NETNS_BG_PID=$!
  e2e_track_pid "$NETNS_BG_PID"
}

netns_veth() {
  local a=$1 b=$2 nsa nsb k NS
  netns__ns "$a"; nsa=$NS
  netns__ns "$b"; nsb=$NS
  NETNS_VETH_COUNT=$((NETNS_VETH_COUNT + 1))
  k=$NETNS_VETH_COUNT
  # Both ends are created directly inside the namespaces: the host never
  # sees them.
  ip link add "v-$b" netns "$nsa" type veth peer name "v-$a" netns "$nsb" ||
    fail "veth between $a and $b"
  ip -n "$nsa" addr add "10.78.$k.1/24" dev "v-$b" &&
    ip -n "$nsa" link set "v-$b" up &&
    ip -n "$nsb" addr add "10.78.$k.2/24" dev "v-$a" &&
    ip -n "$nsb" link set "v-$a" up || fail "veth addresses"
  NETNS_PEER_ADDR["$a>$b"]=10.78.$k.2
  NETNS_PEER_ADDR["$b>$a"]=10.78.$k.1
}

# The prefixes (x.y.z.0/24) a role owns: relay and veth.
netns__prefixes() {
  local role=$1 key
  [ -n "${NETNS_PREFIX[$role]:-}" ] && echo "${NETNS_PREFIX[$role]}.0/24"
  for key in "${!NETNS_PEER_ADDR[@]}"; do
    [[ $key == *">$role" ]] && echo "${NETNS_PEER_ADDR[$key]%.*}.0/24"
  done
}

netns__write_ssh_config() {
  local role
  {
    for role in "${!NETNS_SSHD_ADDR[@]}"; do
      printf 'Host %s\n  HostName %s\n' "$role" "${NETNS_SSHD_ADDR[$role]}"
    done
    cat <<CFG
Host *
  User $NETNS_SSH_USER
  Port 22
  IdentityFile $NETNS_SSH_DIR/client_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  GlobalKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
  ConnectTimeout 15
CFG
  } >"$NETNS_SSH_CONFIG"
}

netns__start_sshd() {
  local role=$1 ns dir=$NETNS_SSH_DIR/sshd-$1 i NS
  netns__ns "$role"; ns=$NS
  ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$dir/sshd_config" 2>>"$dir/sshd.log" &
  NETNS_SSHD_PID[$role]=$!
  e2e_track_pid $!
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$ns" ssh -F "$NETNS_SSH_CONFIG" -o HostName=127.0.0.1 "$role" true \
      2>/dev/null && return 0
    kill -0 "${NETNS_SSHD_PID[$role]}" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/sshd.log" >&2
  fail "sshd in $ns did not accept the test key"
}

netns_sshd() {
  local role=$1 addr=${2:-} dir world key NS
  netns__ns "$role"
  [ -x /usr/sbin/sshd ] || fail "openssh-server is not installed (tools/setup --test)"
  if [ -z "$addr" ]; then
    addr=${NETNS_ADDR[$role]:-}
    if [ -z "$addr" ]; then
      for key in "${!NETNS_PEER_ADDR[@]}"; do
        [[ $key == *">$role" ]] && { addr=${NETNS_PEER_ADDR[$key]}; break; }
      done
    fi
    [ -n "$addr" ] || fail "netns_sshd: '$role' has no address yet (relay or veth first)"
  fi
  sshd_ensure_user "$NETNS_SSH_USER"
  mkdir -p "$NETNS_SSH_DIR" /run/sshd
  chmod 755 /run/sshd
  if [ ! -f "$NETNS_SSH_DIR/client_key" ]; then
    ssh-keygen -q -t ed25519 -N '' -f "$NETNS_SSH_DIR/client_key" || fail "ssh-keygen"
    # sshd reads AuthorizedKeysFile as the user: a readable copy private to
    # this test (no shared ~/.ssh/authorized_keys to race on). E2E_DIR
    # becomes traversable, not listable; the private key stays 600.
    chmod 711 "$E2E_DIR" && chmod 755 "$NETNS_SSH_DIR" &&
      install -m 644 "$NETNS_SSH_DIR/client_key.pub" "$NETNS_SSH_DIR/authorized_keys" ||
      fail "authorized_keys"
  fi
  dir=$NETNS_SSH_DIR/sshd-$role
  mkdir -p "$dir"
  [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" ||
    fail "ssh-keygen (host)"
  cat >"$dir/sshd_config" <<CFG
Port 22
ListenAddress 0.0.0.0
HostKey $dir/host_key
PidFile none
AuthorizedKeysFile $NETNS_SSH_DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
AllowTcpForwarding yes
AllowAgentForwarding yes
GatewayPorts no
AcceptEnv LANG LC_*
CFG
  NETNS_SSHD_ADDR[$role]=$addr
  netns__write_ssh_config
  netns__start_sshd "$role"
}

netns_sshd_restart() {
  local role=$1 pid=${NETNS_SSHD_PID[$1]:-} i
  [ -n "$pid" ] || fail "netns_sshd_restart: no sshd in '$role'"
  kill "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  netns__start_sshd "$role"
}

netns_udp_block() {
  local role=$1 peer ns p NS
  shift
  local peers=("$@")
  if [ ${#peers[@]} -eq 0 ]; then
    for peer in "${NETNS_ROLES[@]}"; do
      [ "$peer" = "$role" ] || peers+=("$peer")
    done
  fi
  command -v nft >/dev/null || fail "nftables is not installed (tools/setup --test)"
  for peer in "${peers[@]}"; do
    # Dropped on input at both ends: senders see no error (a drop on output
    # would fail their sendto() with EPERM, which no real network does).
    for p in "$role:$peer" "$peer:$role"; do
      netns__ns "${p%%:*}"; ns=$NS
      local from=${p#*:} prefix rules=""
      for prefix in $(netns__prefixes "$from"); do
        rules+="add rule inet mxnet_udp_$from in ip saddr $prefix meta l4proto udp counter drop"$'\n'
      done
      [ -n "$rules" ] || fail "netns_udp_block: '$from' has no address"
      printf 'add table inet mxnet_udp_%s\nadd chain inet mxnet_udp_%s in { type filter hook input priority 0; }\n%s' \
        "$from" "$from" "$rules" | ip netns exec "$ns" nft -f - ||
        fail "nft rules in $ns"
    done
  done
}

netns_udp_unblock() {
  local role=$1 peer ns p NS
  shift
  local peers=("$@")
  if [ ${#peers[@]} -eq 0 ]; then
    for peer in "${NETNS_ROLES[@]}"; do
      [ "$peer" = "$role" ] || peers+=("$peer")
    done
  fi
  for peer in "${peers[@]}"; do
    for p in "$role:$peer" "$peer:$role"; do
      netns__ns "${p%%:*}"; ns=$NS
      ip netns exec "$ns" nft delete table inet "mxnet_udp_${p#*:}" 2>/dev/null
    done
  done
  return 0
}

netns_roam() {
  local role=$1 ns old host new NS
  netns__ns "$role"; ns=$NS
  old=${NETNS_ADDR[$role]:-}
  [ -n "$old" ] || fail "netns_roam: '$role' is not on the relay"
  host=${old##*.}
  new=${NETNS_PREFIX[$role]}.$(( host >= 250 ? 2 : host + 1 ))
  ip -n "$ns" addr add "$new/24" dev netem0 &&
    ip -n "$ns" addr del "$old/24" dev netem0 || fail "roam $role $old -> $new"
  NETNS_ADDR[$role]=$new
}

netns_cleanup() {
  local status=$?
  [ "${NETNS_CLEANED:-1}" = 0 ] || return 0
  NETNS_CLEANED=1
  local role ns i
  # A failing test: show the links and what they did, for the log.
  if [ "$status" != 0 ] && [ -n "$NETNS_RELAY_PID" ] &&
      kill -0 "$NETNS_RELAY_PID" 2>/dev/null; then
    {
      echo "--- relay links ---"
      timeout 5 "$NETNS_RELAY_BIN" ctl "$NETNS_RELAY_SOCK" show
      echo "--- relay counters (non-zero) ---"
      timeout 5 "$NETNS_RELAY_BIN" ctl "$NETNS_RELAY_SOCK" stats | grep -v '=0$'
    } >&2 2>/dev/null
  fi
  for role in "${NETNS_ROLES[@]}"; do
    netns__kill_inside "${NETNS_NAME[$role]}"
  done
  if [ -n "$NETNS_RELAY_PID" ]; then
    kill "$NETNS_RELAY_PID" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
      kill -0 "$NETNS_RELAY_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$NETNS_RELAY_PID" 2>/dev/null
  fi
  for role in "${NETNS_ROLES[@]}"; do
    ns=${NETNS_NAME[$role]}
    ip netns del "$ns" 2>/dev/null || echo "netns_lib: could not delete $ns" >&2
  done
  return 0
}
