#!/usr/bin/env python3
"""Attach reply -> whole screen drawn, with real processes (issue 13's goal:
at most one round trip + 20 ms).

    tools/benchmark/attach_latency.py [--moshx PATH] [--relay PATH]
                                      [--rtts 20,200] [--runs 5]
                                      [--via connect|client]

Starts a private session host (its own $XDG_RUNTIME_DIR) and one session
whose program fills the screen and ends it with a marker line; a first
client draws it and is killed (-9), so the session is detached with its
screen. Then, per RTT and run: tools/netem's udp_relay delays each direction
by RTT/2, `moshx serve --attach` answers with a fresh key (the clock starts
when that answer has been read), a real `moshx client` on a pty talks through
the relay, and the clock stops when the client has written the marker to its
terminal. Prints each run and the median per RTT; wall-clock, so process
start and CPU time are included.

--via connect (the default) measures what a user runs: `moshx connect
127.0.0.1 --attach bench` on a pty, with this script standing in for ssh
(`--ssh "attach_latency.py --as-ssh"`: `ssh -G` answers the address, the
remote command runs locally, its CONNECT line is pointed at the relay). The
clock starts when the stand-in writes the attach answer to connect's pipe,
in the running client, as over a real SSH connection. --via client starts a
`moshx client` process after the answer instead (process start included).
"""

import argparse
import json
import os
import pty
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

MARKER = b"ATTACH-BENCH-END"


def run_client(moshx, key, cid, port):
    """Starts a client on a pty; returns (pid, master fd)."""
    stamp = os.path.join(os.environ["XDG_RUNTIME_DIR"], "exec-time")
    pid, fd = pty.fork()
    if pid == 0:
        with open(stamp, "w") as f:  # CLOCK_MONOTONIC is one clock for every process
            f.write(repr(time.monotonic()))
        os.environ["MOSH_KEY"] = key
        os.environ["TERM"] = "xterm-256color"
        os.execv(moshx, [moshx, "client", "--connection-id", cid, "127.0.0.1", str(port)])
    import fcntl, struct, termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def exec_time():
    """When the last client started (just before its execve)."""
    with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "exec-time")) as f:
        return float(f.read())


def wait_for(fd, needle, timeout):
    seen = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        seen += chunk
        if needle in seen:
            return time.monotonic()
    raise RuntimeError("marker never drawn; got %r" % seen[-300:])


def as_ssh(argv):
    """Stands in for ssh: `-G ... DEST` prints the address, else runs the last
    argument with sh -c, points the CONNECT line at $ATTACH_BENCH_RELAY_PORT,
    stamps the time and hands the answer over."""
    if "-G" in argv:
        os.write(1, b"hostname 127.0.0.1\n")
        os._exit(0)
    done = subprocess.run(["/bin/sh", "-c", argv[-1]], capture_output=True)
    out = done.stdout
    port = os.environ.get("ATTACH_BENCH_RELAY_PORT", "")
    if port:
        out = re.sub(rb"^(MOSHX?) CONNECT [0-9]+ ", rb"\1 CONNECT " + port.encode() + b" ", out,
                     flags=re.M)
    if os.environ.get("ATTACH_BENCH_DEBUG"):
        with open(os.environ["ATTACH_BENCH_DEBUG"], "ab") as f:
            f.write(b"argv=%r\nout=%r\nerr=%r\n" % (argv, out, done.stderr))
    os.write(2, done.stderr)
    with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "answer-time"), "w") as f:
        f.write(repr(time.monotonic()))
    # Like ssh, which exits as the remote command's status arrives with its
    # output: no interpreter teardown between the answer and the exit.
    os.write(1, out)
    os._exit(done.returncode)


def run_connect(moshx, relay_port):
    """`moshx connect 127.0.0.1 --attach bench` on a pty, this script as ssh;
    returns (pid, master fd)."""
    me = os.path.realpath(__file__)
    pid, fd = pty.fork()
    if pid == 0:
        with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "exec-time"), "w") as f:
            f.write(repr(time.monotonic()))
        os.environ["ATTACH_BENCH_RELAY_PORT"] = str(relay_port)
        os.environ["TERM"] = "xterm-256color"
        os.execv(moshx, [moshx, "connect", "--ssh", "%s %s --as-ssh" % (sys.executable, me),
                         "--bootstrap", "never", "--transport", "udp", "--server", moshx,
                         "127.0.0.1", "--attach", "bench"])
    import fcntl, struct, termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def answer_time():
    """When the stand-in ssh handed connect the attach answer."""
    with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "answer-time")) as f:
        return float(f.read())


def serve(moshx, args):
    done = subprocess.run([moshx, "serve", "--bind", "127.0.0.1", "--json"] + args,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("moshx serve %s: %s" % (" ".join(args), done.stderr))
    out = done.stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][0])


def main():
    if len(sys.argv) > 1 and "--as-ssh" in sys.argv:
        return as_ssh([x for x in sys.argv[1:] if x != "--as-ssh"])
    p = argparse.ArgumentParser()
    p.add_argument("--moshx", default=".bazel/bin/cmd/moshx")
    p.add_argument("--relay", default=".bazel/bin/tools/netem/udp_relay")
    p.add_argument("--rtts", default="20,200", help="ms; -1: no relay")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--via", choices=["connect", "client"], default="connect",
                   help="connect: moshx connect --attach in one process (the answer arrives "
                   "in the running client); client: a moshx client started after the answer")
    a = p.parse_args()
    moshx, relay = os.path.realpath(a.moshx), os.path.realpath(a.relay)
    work = tempfile.mkdtemp(prefix="moshx-attach-bench.")
    os.environ["XDG_RUNTIME_DIR"] = work
    program = ("seq -w 100000 102000 | paste -d' ' - - - - - - -; echo %s; exec sleep 3600"
               % MARKER.decode())
    s = serve(moshx, ["--name", "bench", "--", "/bin/sh", "-c", program])
    children = []
    try:
        pid, fd = run_client(moshx, s["key"], s["connection_id"], s["port"])
        wait_for(fd, MARKER, 20)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
        for rtt in [int(x) for x in a.rtts.split(",")]:
            times, from_exec = [], []
            for _ in range(a.runs):
                r, port = None, s["port"]
                if rtt >= 0:  # else no relay: straight to the host's port
                    r = subprocess.Popen([relay, "--server-port", str(s["port"]),
                                          "--control-port", "0", "--delay-ms", str(rtt // 2),
                                          "--max-seconds", "60"],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True)
                    children.append(r)
                    line = r.stdout.readline()
                    while "ready" not in line:
                        line = r.stdout.readline()
                    port = int(line.split("listen=")[1].split()[0])
                if a.via == "connect":
                    pid, fd = run_connect(moshx, port)
                    t1 = wait_for(fd, MARKER, 20)
                    t0 = answer_time()
                else:
                    at = serve(moshx, ["--attach", "bench"])
                    t0 = time.monotonic()
                    pid, fd = run_client(moshx, at["key"], at["connection_id"], port)
                    t1 = wait_for(fd, MARKER, 20)
                times.append((t1 - t0) * 1000)
                from_exec.append((t1 - exec_time()) * 1000)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(fd)
                if r is not None:
                    r.terminate()
                    r.wait()
                label = "direct" if rtt < 0 else "RTT %d ms" % rtt
                print("%s: attach answer -> whole screen drawn %.1f ms (%.1f ms from the %s's "
                      "exec)" % (label, times[-1], from_exec[-1], a.via), flush=True)
            print("%s: median %.1f ms over %d runs via %s, %.1f ms from its exec (goal %d ms)"
                  % ("direct" if rtt < 0 else "RTT %d ms" % rtt, statistics.median(times),
                     len(times), a.via, statistics.median(from_exec), max(rtt, 0) + 20),
                  flush=True)
    finally:
        for r in children:
            if r.poll() is None:
                r.kill()
        subprocess.run([moshx, "serve", "--kill", "bench"], capture_output=True)
        time.sleep(0.5)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
