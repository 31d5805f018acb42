#!/usr/bin/env python3
"""moshx vs mosh 1.4, side by side on emulated links, in one run (issue 9).

For every link (one-way delay, loss) and every implementation, the harness
starts a server on loopback (bash with a numbered prompt), a udp_relay in
front of it (tools/netem: delay, loss, rebind) and the client on a pty that
this script owns. It types, floods, interrupts, idles and roams, and measures:

  keystroke response  write of a key -> first client output containing it
  bulk output         `seq 1 N` and base64 of random bytes: wire bytes and
                      packets (both directions, as emitted by the endpoints,
                      counted by the relay), server and client CPU seconds
                      (/proc/PID/stat), wall time to the next prompt
  Ctrl-C              during an endless `seq`, ^C -> next prompt on screen
  idle                datagrams per minute with nothing happening
  memory              VmRSS / VmHWM of server and client (/proc/PID/status)
  roaming             relay rebinds (server sees a new client port) ->
                      output of a command typed right after it

Output: one JSON object per line (a "run" header, then one "result" per
link and metric with both values and the moshx/mosh ratio) and, with
--markdown, a short table. Nothing here asserts performance.

Only loopback is used; every process started is tracked by PID and killed.
"""

import argparse
import datetime
import fcntl
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

ROWS, COLS = 24, 80
PROMPT_RE = re.compile(rb"BENCH(\d+)>")
# Escape sequences a client writes: CSI, OSC (BEL or ST), charset, others.
ESCAPE_RE = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1bP[^\x1b]*\x1b\\|\x1b[()*+][0-~]|\x1b[ -/]*[0-~]")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
  pass


def now():
  return time.monotonic()


# ---------------------------------------------------------------- processes

class Tracker:
  """PIDs this run started; killed (TERM, then KILL) at the end."""

  def __init__(self):
    self.pids = []

  def add(self, pid):
    self.pids.append(pid)

  def kill_all(self):
    for sig in (signal.SIGTERM, signal.SIGKILL):
      alive = False
      for pid in self.pids:
        try:
          os.kill(pid, sig)
          alive = True
        except (ProcessLookupError, PermissionError):
          pass
      if alive and sig == signal.SIGTERM:
        time.sleep(0.3)
    for pid in self.pids:
      try:
        os.waitpid(pid, os.WNOHANG)
      except ChildProcessError:
        pass
    self.pids = []


def cpu_seconds(pid):
  """utime + stime of a live process, in seconds (None if gone)."""
  try:
    with open(f"/proc/{pid}/stat") as f:
      fields = f.read().rsplit(")", 1)[1].split()
  except OSError:
    return None
  return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid):
  out = {}
  try:
    with open(f"/proc/{pid}/status") as f:
      for line in f:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
          out[key] = int(value.split()[0])
  except OSError:
    pass
  return out


class Relay:
  """tools/netem udp_relay in front of a server port, with its control port."""

  def __init__(self, binary, server_port, delay_ms, loss, seed, tracker):
    args = [binary, "--server-port", str(server_port), "--control-port", "0",
            "--delay-ms", str(delay_ms), "--loss", str(loss),
            "--seed", str(seed), "--max-seconds", "1200"]
    self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
    tracker.add(self.proc.pid)
    line = self.proc.stdout.readline().decode()
    m = re.search(r"listen=(\d+) upstream=(\d+) control=(\d+)", line)
    if not m:
      raise BenchError(f"udp_relay did not start: {line!r}")
    self.listen, self.control = int(m.group(1)), int(m.group(3))
    self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    self.sock.settimeout(2)

  def command(self, text):
    self.sock.sendto(text.encode(), ("127.0.0.1", self.control))
    return self.sock.recv(4096).decode()

  def stats(self):
    """{'up_received': n, 'up_received_bytes': b, ...} from `stats`."""
    out = {}
    for part in self.command("stats").split(";"):
      direction, _, rest = part.strip().partition(":")
      for item in rest.split():
        key, _, value = item.partition("=")
        out[f"{direction}_{key}"] = int(value)
    return out

  def stop(self):
    try:
      self.command("quit")
    except OSError:
      pass
    try:
      self.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
      self.proc.kill()
    self.sock.close()


def wire(before, after):
  """Datagrams and payload bytes the two endpoints emitted in between."""
  d = {k: after[k] - before[k] for k in after}
  return {"packets": d["up_received"] + d["down_received"],
          "bytes": d["up_received_bytes"] + d["down_received_bytes"]}


# ---------------------------------------------------------------- client pty

class Terminal:
  """The client's pty: writes keys, reads its output as timestamped text."""

  def __init__(self, argv, env, tracker):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", ROWS, COLS, 0, 0))

    def child_setup():
      os.setsid()
      fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    self.proc = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave,
                                 stderr=slave, preexec_fn=child_setup,
                                 close_fds=True)
    tracker.add(self.proc.pid)
    os.close(slave)
    self.fd = master
    os.set_blocking(master, False)
    self.chunks = []      # (time, text without escape sequences)
    self.pending = b""    # an escape sequence cut by a read boundary
    self.raw_bytes = 0

  def write(self, data):
    os.write(self.fd, data)
    return now()

  def pump(self, seconds):
    """Reads output for `seconds` (or until the pty closes)."""
    end = now() + seconds
    while True:
      left = end - now()
      if left <= 0:
        return True
      if not self._read(left):
        return False

  def _read(self, timeout):
    r, _, _ = select.select([self.fd], [], [], timeout)
    if not r:
      return True
    try:
      data = os.read(self.fd, 65536)
    except OSError:
      data = b""
    if not data:
      return False
    t = now()
    self.raw_bytes += len(data)
    data = self.pending + data
    cut = data.rfind(b"\x1b")
    if cut >= 0 and len(data) - cut < 512 and not ESCAPE_RE.match(data, cut):
      data, self.pending = data[:cut], data[cut:]
    else:
      self.pending = b""
    self.chunks.append((t, ESCAPE_RE.sub(b"", data)))
    return True

  def wait_for(self, predicate, since, timeout):
    """Time of the first chunk read at/after `since` with which the text
    read since then satisfies predicate(text, start) (start: where new text
    begins, less a margin); None on timeout."""
    end = now() + timeout
    text, i = b"", 0
    while True:
      while i < len(self.chunks):
        t, chunk = self.chunks[i]
        i += 1
        if t < since:
          continue
        start = max(0, len(text) - 64)
        text += chunk
        if predicate(text, start):
          return t
        text = text[-4096:]
      left = end - now()
      if left <= 0 or not self._read(min(left, 0.5)):
        return None

  def first_time_containing(self, needle, since):
    """Timestamp of the first chunk read at/after `since` containing needle."""
    for t, text in self.chunks:
      if t >= since and needle in text:
        return t
    return None

  def trim(self):
    """Forget output read so far (keeps memory small during floods)."""
    self.chunks = []

  def close(self):
    try:
      os.close(self.fd)
    except OSError:
      pass


def prompt_at_least(number):
  def predicate(text, start):
    for m in PROMPT_RE.finditer(text, start):
      if int(m.group(1)) >= number:
        return True
    return False
  return predicate


# ---------------------------------------------------------------- implementations

def session_env(home):
  return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home,
          "LANG": "C.UTF-8", "PS1": r"BENCH\#>", "HISTFILE": "/dev/null",
          "TERM": "xterm-256color", "SHELL": "/bin/bash"}


SHELL = ["/bin/bash", "--norc", "--noprofile", "-i"]


class Mosh:
  name = "mosh"

  def __init__(self, args):
    self.server_bin, self.client_bin = args.mosh_server, args.mosh_client

  def start_server(self, env, tracker):
    out = subprocess.run(
        [self.server_bin, "new", "-i", "127.0.0.1", "-p", "60100:60999",
         "-l", "LANG=C.UTF-8", "--"] + SHELL,
        env=env, capture_output=True, timeout=10, check=False)
    text = out.stdout.decode() + out.stderr.decode()
    m = re.search(r"MOSH CONNECT (\d+) (\S+)", text)
    p = re.search(r"detached, pid = (\d+)", text)
    if not m or not p:
      raise BenchError(f"mosh-server did not start: {text!r}")
    tracker.add(int(p.group(1)))
    return {"port": int(m.group(1)), "key": m.group(2), "pid": int(p.group(1))}

  def client(self, server, port, env):
    env = dict(env, MOSH_KEY=server["key"])
    return [self.client_bin, "127.0.0.1", str(port)], env


class Moshx:
  name = "moshx"

  def __init__(self, args):
    self.bin = args.moshx

  def start_server(self, env, tracker):
    # --foreground: the server stays our child, so its PID is known and it
    # is cleaned up with the rest; the CONNECT line comes first on stdout.
    proc = subprocess.Popen(
        [self.bin, "serve", "--bind", "127.0.0.1", "--port-range",
         "61100:61999", "--foreground", "--"] + SHELL,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL)
    tracker.add(proc.pid)
    r, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline().decode() if r else ""
    m = re.search(r"MOSHX CONNECT (\d+) (\S+) ([0-9a-fA-F]{16})", line)
    if not m:
      raise BenchError(f"moshx serve did not start: {line!r}")
    return {"port": int(m.group(1)), "key": m.group(2),
            "connid": m.group(3), "pid": proc.pid, "proc": proc}

  def client(self, server, port, env):
    env = dict(env, MOSH_KEY=server["key"])
    return [self.bin, "client", "--connection-id", server["connid"],
            "127.0.0.1", str(port)], env


# ---------------------------------------------------------------- measurements

class Session:
  """One implementation on one link: server, relay, client, shell counter."""

  def __init__(self, impl, link, args, tracker, home):
    self.impl, self.link, self.args = impl, link, args
    env = session_env(home)
    self.server = impl.start_server(env, tracker)
    self.relay = Relay(args.relay, self.server["port"], link["delay_ms"],
                       link["loss"], args.seed, tracker)
    argv, cenv = impl.client(self.server, self.relay.listen, env)
    self.term = Terminal(argv, cenv, tracker)
    self.next_prompt = 1
    if not self.term.wait_for(prompt_at_least(1), 0, 15):
      raise BenchError(f"{impl.name}: no prompt from the session")
    self.settle()

  @property
  def rtt(self):
    return 2 * self.link["delay_ms"] / 1000

  def settle(self, extra=0.3):
    self.term.pump(2 * self.rtt + extra)
    self.term.trim()

  def run_command(self, command, timeout):
    """Types command + Enter; returns (seconds to the next prompt) or None."""
    self.next_prompt += 1
    start = self.term.write(command.encode() + b"\r")
    t = self.term.wait_for(prompt_at_least(self.next_prompt), start, timeout)
    return None if t is None else t - start

  def cpu(self):
    return (cpu_seconds(self.server["pid"]), cpu_seconds(self.term.proc.pid))

  def close(self):
    try:
      self.term.write(b"\x15exit\r")
      self.term.pump(min(3, 4 * self.rtt + 1))
    except OSError:
      pass
    self.term.close()
    self.relay.stop()


def keystrokes(s, count, interval):
  """Pipelined typing: lines of distinct lowercase letters, each line killed
  with ^U; per key, the delay until client output contains that letter."""
  letters = "abcdefghijklmnopqrstuvwxyz"
  delays, typed = [], 0
  line = 0
  while typed < count:
    n = min(20, count - typed)
    offset = (line * 7) % 26
    keys = [letters[(offset + i) % 26] for i in range(n)]
    sent = []
    for k in keys:
      sent.append((k, s.term.write(k.encode())))
      s.term.pump(interval)
    s.term.pump(max(1.0, 3 * s.rtt))
    for k, t in sent:
      seen = s.term.first_time_containing(k.encode(), t)
      delays.append(None if seen is None else (seen - t) * 1000)
    typed += n
    line += 1
    s.term.write(b"\x15")
    s.settle(0.5)
  got = [d for d in delays if d is not None]
  if not got:
    return {"keys": len(delays), "echoed": 0}
  got.sort()
  return {"keys": len(delays), "echoed": len(got),
          "median_ms": statistics.median(got),
          "mean_ms": statistics.fmean(got),
          "p95_ms": got[min(len(got) - 1, int(0.95 * len(got)))],
          "under_5ms_share": sum(d < 5 for d in got) / len(got)}


def bulk(s, command, timeout):
  s.settle()
  w0, c0 = s.relay.stats(), s.cpu()
  seconds = s.run_command(command, timeout)
  s.term.pump(0.5)
  w1, c1 = s.relay.stats(), s.cpu()
  s.term.trim()
  out = {"seconds": seconds}
  out.update(wire(w0, w1))
  out["server_cpu_s"] = c1[0] - c0[0] if None not in (c0[0], c1[0]) else None
  out["client_cpu_s"] = c1[1] - c0[1] if None not in (c0[1], c1[1]) else None
  return out


def ctrl_c(s, flood_seconds):
  s.settle()
  s.next_prompt += 1
  s.term.write(b"seq 1 999999999\r")
  s.term.pump(flood_seconds)
  s.term.trim()
  start = s.term.write(b"\x03")
  t = s.term.wait_for(prompt_at_least(s.next_prompt), start, 20)
  return {"seconds": None if t is None else t - start}


def idle(s, seconds):
  s.settle(1.0)
  w0 = s.relay.stats()
  s.term.pump(seconds)
  d = wire(w0, s.relay.stats())
  s.term.trim()
  return {"packets_per_min": d["packets"] * 60 / seconds,
          "bytes_per_min": d["bytes"] * 60 / seconds}


def roam(s):
  s.settle()
  start = now()
  reply = s.relay.command("rebind")
  if not reply.startswith("ok"):
    raise BenchError(f"rebind failed: {reply}")
  s.next_prompt += 1
  s.term.write(b"echo $((7*11111))\r")

  def predicate(text, start_at):
    return b"77777" in text

  t = s.term.wait_for(predicate, start, 20)
  s.term.wait_for(prompt_at_least(s.next_prompt), start, 10)
  return {"seconds": None if t is None else t - start}


def measure(impl, link, args, tracker, home, noise_file):
  s = Session(impl, link, args, tracker, home)
  try:
    r = {"keystroke": keystrokes(s, args.keys, args.key_interval)}
    r["seq"] = bulk(s, f"seq 1 {args.seq}", args.bulk_timeout)
    r["base64"] = bulk(s, f"base64 {noise_file}", args.bulk_timeout)
    r["ctrl_c"] = ctrl_c(s, args.flood_seconds)
    r["idle"] = idle(s, args.idle_seconds)
    r["memory"] = {"server": memory_kib(s.server["pid"]),
                   "client": memory_kib(s.term.proc.pid)}
    r["roam"] = roam(s)
    return r
  finally:
    s.close()
    tracker.kill_all()


# ---------------------------------------------------------------- report

# (label, path into the per-implementation result, goal ratio or None)
METRICS = [
    ("keystroke median ms", ("keystroke", "median_ms"), 1.0),
    ("keystroke mean ms", ("keystroke", "mean_ms"), None),
    ("keystroke p95 ms", ("keystroke", "p95_ms"), None),
    ("keystroke share < 5 ms", ("keystroke", "under_5ms_share"), None),
    ("seq wire bytes", ("seq", "bytes"), 1.0),
    ("seq wire packets", ("seq", "packets"), None),
    ("seq server CPU s", ("seq", "server_cpu_s"), 0.5),
    ("seq client CPU s", ("seq", "client_cpu_s"), None),
    ("seq seconds to prompt", ("seq", "seconds"), None),
    ("base64 wire bytes", ("base64", "bytes"), None),
    ("base64 wire packets", ("base64", "packets"), None),
    ("base64 server CPU s", ("base64", "server_cpu_s"), None),
    ("base64 client CPU s", ("base64", "client_cpu_s"), None),
    ("Ctrl-C to prompt s", ("ctrl_c", "seconds"), 1.0),
    ("idle packets/min", ("idle", "packets_per_min"), 1.0),
    ("server RSS KiB", ("memory", "server", "VmRSS"), 1.0),
    ("server peak RSS KiB", ("memory", "server", "VmHWM"), None),
    ("client RSS KiB", ("memory", "client", "VmRSS"), None),
    ("roam resume s", ("roam", "seconds"), None),
]


def dig(result, path):
  for key in path:
    if not isinstance(result, dict) or key not in result:
      return None
    result = result[key]
  return result


def result_lines(link, by_impl):
  lines = []
  for label, path, goal in METRICS:
    a = dig(by_impl.get("moshx"), path)
    b = dig(by_impl.get("mosh"), path)
    ratio = a / b if a is not None and b not in (None, 0) else None
    line = {"type": "result", "link": link["name"], "metric": label,
            "moshx": a, "mosh": b, "ratio": ratio, "goal_max_ratio": goal}
    if goal is not None:
      line["goal_met"] = None if ratio is None else ratio <= goal
    lines.append(line)
  return lines


def fmt(v):
  if v is None:
    return "n/a"
  if isinstance(v, float):
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
  return str(v)


def markdown(header, lines, links, command):
  out = ["# Benchmarks: moshx vs mosh 1.4", "",
         "Generated by `" + command + "` (tools/benchmark/bench.py); every ratio "
         "is moshx/mosh measured in the same run. Do not edit by hand.", "",
         f"- Date: {header['date']}",
         f"- Machine: {header['machine']}",
         f"- mosh: {header['mosh_version']}; moshx: {header['moshx_version']}",
         "- Links (udp_relay on loopback, same seed for both): " + ", ".join(
             f"{l['name']} = {2 * l['delay_ms']:g} ms RTT"
             + (f", {l['loss']:.0%} loss each way" if l["loss"] else "")
             for l in links),
         ""]
  names = [l["name"] for l in links]
  out.append("| metric | goal | " + " | ".join(
      f"{n} moshx | {n} mosh | {n} ratio" for n in names) + " |")
  out.append("|---|---|" + "---|" * (3 * len(names)))
  for label, _, goal in METRICS:
    row = [label, "" if goal is None else f"<= {goal:g}"]
    for n in names:
      line = next(x for x in lines if x["link"] == n and x["metric"] == label)
      ratio = fmt(line["ratio"])
      if goal is not None and line["ratio"] is not None:
        ratio += " ok" if line["ratio"] <= goal else " MISSED"
      row += [fmt(line["moshx"]), fmt(line["mosh"]), ratio]
    out.append("| " + " | ".join(row) + " |")
  out.append("")
  return "\n".join(out)


def version(argv):
  try:
    out = subprocess.run(argv, capture_output=True, timeout=5, check=False)
    text = (out.stdout + out.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else "unknown"
  except (OSError, subprocess.TimeoutExpired):
    return "unknown"


def machine():
  cpu = "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          cpu = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  return (f"{platform.node()}, {cpu}, {os.cpu_count()} CPUs, "
          f"Linux {platform.release()}")


LINKS = {
    "rtt20": {"name": "rtt20", "delay_ms": 10, "loss": 0.0},
    "rtt200": {"name": "rtt200", "delay_ms": 100, "loss": 0.0},
    "rtt500": {"name": "rtt500", "delay_ms": 250, "loss": 0.0},
    "rtt100loss29": {"name": "rtt100loss29", "delay_ms": 50, "loss": 0.29},
}


def parse_args(argv):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--moshx", required=True, help="moshx binary")
  p.add_argument("--relay", required=True, help="tools/netem udp_relay binary")
  p.add_argument("--mosh-server", default="/usr/bin/mosh-server")
  p.add_argument("--mosh-client", default="/usr/bin/mosh-client")
  p.add_argument("--impls", default="mosh,moshx")
  p.add_argument("--links", default=",".join(LINKS))
  p.add_argument("--keys", type=int, default=60)
  p.add_argument("--key-interval", type=float, default=0.12)
  p.add_argument("--seq", type=int, default=3000000)
  p.add_argument("--noise-bytes", type=int, default=1500000)
  p.add_argument("--flood-seconds", type=float, default=1.5)
  p.add_argument("--idle-seconds", type=float, default=30)
  p.add_argument("--bulk-timeout", type=float, default=120)
  p.add_argument("--seed", type=int, default=1)
  p.add_argument("--json", help="write JSON lines here (default stdout)")
  p.add_argument("--markdown", help="write the table here")
  p.add_argument("--command", default="tools/bench",
                 help="command named in the markdown")
  return p.parse_args(argv)


def main(argv):
  args = parse_args(argv)
  impls = {"mosh": Mosh, "moshx": Moshx}
  chosen = [impls[n](args) for n in args.impls.split(",")]
  links = [LINKS[n] for n in args.links.split(",")]
  tracker = Tracker()
  signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
  home = tempfile.mkdtemp(prefix="moshx-bench.")
  noise = os.path.join(home, "noise.bin")
  with open(noise, "wb") as f:
    f.write(random.Random(args.seed).randbytes(args.noise_bytes))
  header = {"type": "run",
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "mosh_version": version([args.mosh_server, "--version"]),
            "moshx_version": version([args.moshx, "--version"]),
            "args": {k: v for k, v in vars(args).items()
                     if k not in ("json", "markdown")}}
  out = open(args.json, "w") if args.json else sys.stdout
  lines = []
  try:
    print(json.dumps(header), file=out, flush=True)
    for link in links:
      by_impl = {}
      for impl in chosen:
        print(f"bench: {link['name']} {impl.name}", file=sys.stderr, flush=True)
        try:
          by_impl[impl.name] = measure(impl, link, args, tracker, home, noise)
        except BenchError as e:
          print(f"bench: {impl.name} on {link['name']} failed: {e}",
                file=sys.stderr, flush=True)
          by_impl[impl.name] = {"error": str(e)}
        raw = {"type": "raw", "link": link["name"], "impl": impl.name,
               "result": by_impl[impl.name]}
        print(json.dumps(raw), file=out, flush=True)
      for line in result_lines(link, by_impl):
        lines.append(line)
        print(json.dumps(line), file=out, flush=True)
  finally:
    tracker.kill_all()
    shutil.rmtree(home, ignore_errors=True)
    if out is not sys.stdout:
      out.close()
  if args.markdown:
    with open(args.markdown, "w") as f:
      f.write(markdown(header, lines, links, args.command))
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
