#!/usr/bin/env python3
"""Attach reply -> whole screen drawn, with real processes (issue 13's goal:
at most one round trip + 20 ms).

    tools/benchmark/attach_latency.py [--moshx PATH] [--relay PATH]
                                      [--rtts 20,200] [--runs 5]

Starts a private session host (its own $XDG_RUNTIME_DIR) and one session
whose program fills the screen and ends it with a marker line; a first
client draws it and is killed (-9), so the session is detached with its
screen. Then, per RTT and run: tools/netem's udp_relay delays each direction
by RTT/2, `moshx serve --attach` answers with a fresh key (the clock starts
when that answer has been read), a real `moshx client` on a pty talks through
the relay, and the clock stops when the client has written the marker to its
terminal. Prints each run and the median per RTT; wall-clock, so process
start and CPU time are included.
"""

import argparse
import json
import os
import pty
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


def serve(moshx, args):
    done = subprocess.run([moshx, "serve", "--bind", "127.0.0.1", "--json"] + args,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("moshx serve %s: %s" % (" ".join(args), done.stderr))
    out = done.stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--moshx", default=".bazel/bin/cmd/moshx")
    p.add_argument("--relay", default=".bazel/bin/tools/netem/udp_relay")
    p.add_argument("--rtts", default="20,200", help="ms; -1: no relay")
    p.add_argument("--runs", type=int, default=5)
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
                if rtt < 0:  # no relay: straight to the host's port
                    at = serve(moshx, ["--attach", "bench"])
                    t0 = time.monotonic()
                    pid, fd = run_client(moshx, at["key"], at["connection_id"], s["port"])
                    t1 = wait_for(fd, MARKER, 20)
                    times.append((t1 - t0) * 1000)
                    from_exec.append((t1 - exec_time()) * 1000)
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    os.close(fd)
                    print("direct: attach reply -> whole screen drawn %.1f ms (%.1f ms from the "
                          "client's exec)" % (times[-1], from_exec[-1]))
                    continue
                r = subprocess.Popen([relay, "--server-port", str(s["port"]), "--control-port",
                                      "0", "--delay-ms", str(rtt // 2), "--max-seconds", "60"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                children.append(r)
                line = r.stdout.readline()
                while "ready" not in line:
                    line = r.stdout.readline()
                relay_port = int(line.split("listen=")[1].split()[0])
                at = serve(moshx, ["--attach", "bench"])
                t0 = time.monotonic()
                pid, fd = run_client(moshx, at["key"], at["connection_id"], relay_port)
                t1 = wait_for(fd, MARKER, 20)
                times.append((t1 - t0) * 1000)
                from_exec.append((t1 - exec_time()) * 1000)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(fd)
                r.terminate()
                r.wait()
                print("RTT %d ms: attach reply -> whole screen drawn %.1f ms (%.1f ms from the "
                      "client's exec)" % (rtt, times[-1], from_exec[-1]))
            print("RTT %d ms: median %.1f ms over %d runs, %.1f ms from the client's exec "
                  "(goal %d ms)" % (rtt, statistics.median(times), len(times),
                                    statistics.median(from_exec), rtt + 20))
    finally:
        for r in children:
            if r.poll() is None:
                r.kill()
        subprocess.run([moshx, "serve", "--kill", "bench"], capture_output=True)
        time.sleep(0.5)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
