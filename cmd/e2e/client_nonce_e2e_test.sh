#!/usr/bin/env bash
# The real `moshx client` run twice with the same MOSH_KEY against a UDP
# socket that only captures what arrives: no datagram of the second run
# carries a nonce (direction bit + sequence number, the 8 bytes before the
# ciphertext) that one of the first run carried, in either wire mode, and
# each run starts at the Unix time in microseconds times 1024
# (docs/security.md §4). Each run is a client on a pty (it needs a terminal)
# that sends for a second and is then killed.
source tools/testing/e2e_lib.sh
e2e_init
MOSHX=$(realpath cmd/moshx)
python3 - "$MOSHX" <<'PY' || fail "nonces repeated or not time-based (see above)"
import os, pty, signal, socket, sys, time

moshx = sys.argv[1]
KEY = "AAECAwQFBgcICQoLDA0ODw"


def run_client(mode, port):
    """Starts the client, captures 1 s of datagrams, returns (start time, nonces)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(0.05)
    argv = [moshx, "client", "127.0.0.1", str(port)]
    if mode == "moshx":
        argv[2:2] = ["--connection-id", "0123456789abcdef"]
    else:
        argv[2:2] = ["--mode", "mosh"]
    started = time.time()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["MOSH_KEY"] = KEY
        os.environ["TERM"] = "xterm-256color"
        os.execv(moshx, argv)
    nonces = []
    deadline = time.time() + 1.0
    while time.time() < deadline:
        try:
            os.read(fd, 65536)  # keep the pty drained
        except OSError:
            pass
        try:
            data, _ = sock.recvfrom(4096)
        except socket.timeout:
            continue
        header = data[8:16] if mode == "moshx" else data[0:8]
        nonces.append(int.from_bytes(header, "big"))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    sock.close()
    return started, nonces


ok = True
for mode, port in (("moshx", 62701), ("mosh", 62702)):
    t1, first = run_client(mode, port)
    t2, second = run_client(mode, port)
    print(f"{mode}: run 1 sent {len(first)} datagrams, run 2 sent {len(second)}")
    if not first or not second:
        print(f"{mode}: a run sent nothing"); ok = False; continue
    for t, nonces in ((t1, first), (t2, second)):
        if any(n >> 63 for n in nonces):
            print(f"{mode}: a client datagram has the server's direction bit"); ok = False
        start = min(nonces) / 1024 / 1e6
        if not (t - 5 <= start <= t + 5):
            print(f"{mode}: first sequence number {min(nonces)} is not the time {t} x 1e6 x 1024")
            ok = False
    reused = set(first) & set(second)
    if reused:
        print(f"{mode}: {len(reused)} nonces reused, e.g. {sorted(reused)[:3]}"); ok = False
    if max(first) >= min(second):
        print(f"{mode}: run 2 starts at {min(second)}, not after run 1's last {max(first)}")
        ok = False
sys.exit(0 if ok else 1)
PY
echo "PASS: two client runs with one key never repeat a nonce"
