#!/usr/bin/env python3
"""moshx vs mosh 1.4, side by side on emulated links, in one run (issue 9).

For every link (one-way delay, loss) and every implementation, the harness
starts a server on loopback (bash with a numbered prompt), a udp_relay in
front of it (tools/netem: delay, loss, rebind) and the client on a pty that
this script owns. It types, floods, interrupts, idles and roams, and measures:

  keystroke response  write of a key -> first client output containing it,
                      and the wire packets and bytes of the typing
  vim typing          the same, typing lines in vim's insert mode
  bulk output         `seq 1 N` and base64 of random bytes: wire bytes and
                      packets (both directions, as emitted by the endpoints,
                      counted by the relay), server and client CPU seconds
                      (/proc/PID/stat), wall time to the next prompt
  Ctrl-C              during an endless `seq`, ^C -> next prompt on screen
  idle                datagrams per minute with nothing happening
  memory              VmRSS / VmHWM / RssAnon / RssFile of server and client (/proc/PID/status)
  roaming             relay rebinds (server sees a new client port) ->
                      output of a command typed right after it

Output: one JSON object per line (a "run" header, then one "result" per
link and metric with both values and the moshx/mosh ratio) and, with
--markdown, a short table. Nothing here asserts performance.

Only loopback is used; every process started is tracked by PID and killed.
"""

import argparse
import ctypes
import datetime
import fcntl
import json
import os
import platform
import random
import re
import select
import shlex
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
PROMPT_RE = re.compile(r"BENCH(\d+)>")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
  pass


def now():
  return time.monotonic()


# ---------------------------------------------------------------- processes

def start_time(pid):
  """The kernel's start time of process `pid` (None if there is none): with
  the PID, it names one process; a PID alone may be reused."""
  try:
    with open(f"/proc/{pid}/stat") as f:
      return int(f.read().rsplit(")", 1)[1].split()[19])
  except (OSError, IndexError, ValueError):
    return None


class Tracker:
  """PIDs this run started; killed (TERM, then KILL) at the end. Each PID is
  signalled only while it still names the process that was added: a daemon
  (mosh-server) or a reaped child that exited long ago may have left its PID
  to someone else's process (pid_max is 32768 here, and a test run beside
  the bench starts thousands), which must not be killed."""

  def __init__(self):
    self.procs = []  # (pid, start time)

  def add(self, pid):
    self.procs.append((pid, start_time(pid)))

  def kill_all(self):
    for sig in (signal.SIGTERM, signal.SIGKILL):
      alive = False
      for pid, started in self.procs:
        if started is None or start_time(pid) != started:
          continue  # gone (a zombie child keeps its start time until reaped)
        try:
          os.kill(pid, sig)
          alive = True
        except (ProcessLookupError, PermissionError):
          pass
      if alive and sig == signal.SIGTERM:
        time.sleep(0.3)
    for pid, _ in self.procs:
      try:
        os.waitpid(pid, os.WNOHANG)
      except ChildProcessError:
        pass
    self.procs = []


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
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
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
          "bytes": d["up_received_bytes"] + d["down_received_bytes"],
          # Client to server ("up") alone, for the raw records.
          "up_packets": d["up_received"], "up_bytes": d["up_received_bytes"]}


# ---------------------------------------------------------------- client pty

class Screen:
  """The client's screen as a terminal shows it: libvterm (the system's
  shared library, through ctypes) fed with everything the client writes.
  Checks look at this screen, not at the byte stream, because a client only
  redraws cells that changed (a new prompt may be drawn as "5>" over an old
  "BENCH4>")."""

  class Rect(ctypes.Structure):
    _fields_ = [("start_row", ctypes.c_int), ("end_row", ctypes.c_int),
                ("start_col", ctypes.c_int), ("end_col", ctypes.c_int)]

  OUTPUT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_size_t,
                            ctypes.c_void_p)
  _lib = None

  @classmethod
  def lib(cls):
    if cls._lib is None:
      lib = ctypes.CDLL("libvterm.so.0")
      lib.vterm_new.restype = ctypes.c_void_p
      lib.vterm_new.argtypes = [ctypes.c_int, ctypes.c_int]
      lib.vterm_free.argtypes = [ctypes.c_void_p]
      lib.vterm_set_utf8.argtypes = [ctypes.c_void_p, ctypes.c_int]
      lib.vterm_output_set_callback.argtypes = [
          ctypes.c_void_p, cls.OUTPUT, ctypes.c_void_p]
      lib.vterm_obtain_screen.restype = ctypes.c_void_p
      lib.vterm_obtain_screen.argtypes = [ctypes.c_void_p]
      lib.vterm_screen_reset.argtypes = [ctypes.c_void_p, ctypes.c_int]
      lib.vterm_input_write.restype = ctypes.c_size_t
      lib.vterm_input_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                        ctypes.c_size_t]
      lib.vterm_screen_get_text.restype = ctypes.c_size_t
      lib.vterm_screen_get_text.argtypes = [
          ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, cls.Rect]
      cls._lib = lib
    return cls._lib

  def __init__(self, rows, cols):
    lib = self.lib()
    self.rows_, self.cols = rows, cols
    self.vt = lib.vterm_new(rows, cols)
    lib.vterm_set_utf8(self.vt, 1)
    self._discard = self.OUTPUT(lambda *_: None)  # answers to queries
    lib.vterm_output_set_callback(self.vt, self._discard, None)
    self.screen = lib.vterm_obtain_screen(self.vt)
    lib.vterm_screen_reset(self.screen, 1)
    self.buf = ctypes.create_string_buffer(cols * 8 + 16)

  def feed(self, data):
    self.lib().vterm_input_write(self.vt, data, len(data))

  def rows(self):
    out = []
    for r in range(self.rows_):
      n = self.lib().vterm_screen_get_text(
          self.screen, self.buf, len(self.buf),
          self.Rect(r, r + 1, 0, self.cols))
      out.append(self.buf.raw[:n].decode("utf-8", "replace").rstrip())
    return out

  def close(self):
    if self.vt:
      self.lib().vterm_free(self.vt)
      self.vt = None


class Terminal:
  """The client's pty: writes keys, reads its output into a Screen; every
  read is timestamped, and `observer(time)` (if set) runs after each."""

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
    self.screen = Screen(ROWS, COLS)
    self.last_read = now()
    self.raw_bytes = 0
    self.observer = None

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
    self.last_read = now()
    self.raw_bytes += len(data)
    self.screen.feed(data)
    if self.observer:
      self.observer(self.last_read)
    return True

  def wait_for(self, predicate, timeout):
    """Time of the read after which predicate(screen rows) first held (the
    last read's time if it holds already); None on timeout."""
    end = now() + timeout
    while True:
      if predicate(self.screen.rows()):
        return self.last_read
      left = end - now()
      if left <= 0 or not self._read(min(left, 0.5)):
        return None

  def close(self):
    self.screen.close()
    try:
      os.close(self.fd)
    except OSError:
      pass


def prompt_numbers(rows):
  return [int(m.group(1)) for row in rows for m in PROMPT_RE.finditer(row)]


def prompt_at_least(number):
  return lambda rows: any(n >= number for n in prompt_numbers(rows))


def input_line(rows):
  """Text after the lowest prompt on the screen ("" if none)."""
  for row in reversed(rows):
    m = re.search(r"BENCH\d+>(.*)$", row)
    if m:
      return m.group(1)
  return ""


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
    self.predict = args.predict

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
    if self.predict:
      env["MOSH_PREDICTION_DISPLAY"] = self.predict
    return [self.client_bin, "127.0.0.1", str(port)], env


class Moshx:
  name = "moshx"

  def __init__(self, args):
    self.bin = args.moshx
    self.wrapper = shlex.split(args.server_wrapper or "")
    self.serve_flags = shlex.split(args.serve_flags or "")
    self.predict = args.predict

  def start_server(self, env, tracker):
    # --foreground: the server stays our child, so its PID is known and it
    # is cleaned up with the rest; the CONNECT line comes first on stdout.
    # With --server-wrapper (e.g. valgrind) the PID is the wrapper's, which
    # for valgrind is the server itself.
    proc = subprocess.Popen(
        self.wrapper + [self.bin, "serve", "--bind", "127.0.0.1", "--port-range",
         "61100:61999", "--foreground"] + self.serve_flags + ["--"] + SHELL,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL)
    tracker.add(proc.pid)
    r, _, _ = select.select([proc.stdout], [], [], 60 if self.wrapper else 10)
    line = proc.stdout.readline().decode() if r else ""
    m = re.search(r"MOSHX CONNECT (\d+) (\S+) ([0-9a-fA-F]{16})", line)
    if not m:
      raise BenchError(f"moshx serve did not start: {line!r}")
    return {"port": int(m.group(1)), "key": m.group(2),
            "connid": m.group(3), "pid": proc.pid, "proc": proc}

  def client(self, server, port, env):
    env = dict(env, MOSH_KEY=server["key"])
    predict = ["--predict", self.predict] if self.predict else []
    return [self.bin, "client", "--connection-id", server["connid"]] + predict + [
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
    if not self.term.wait_for(prompt_at_least(1), 15):
      raise BenchError(f"{impl.name}: no prompt from the session")
    self.settle()

  @property
  def rtt(self):
    return 2 * self.link["delay_ms"] / 1000

  def settle(self, extra=0.3, quiet_bytes=400, limit=60):
    """Waits 2 RTT + `extra`, then until the link is quiet: a window of
    max(0.5 s, 2 RTT) in which the server sent at most `quiet_bytes`
    (heartbeats and acks), for at most `limit` s. So what a workload left
    in flight (moshx's history stream sends a flood's newest lines after
    the prompt) is not counted in the next workload's window."""
    self.term.pump(2 * self.rtt + extra)
    deadline = time.monotonic() + limit
    window = max(0.5, 2 * self.rtt)
    while time.monotonic() < deadline:
      before = self.relay.stats()
      self.term.pump(window)
      after = self.relay.stats()
      if after["down_received_bytes"] - before["down_received_bytes"] <= quiet_bytes:
        return

  def run_command(self, command, timeout):
    """Types command + Enter; returns (seconds to the next prompt) or None."""
    self.next_prompt += 1
    start = self.term.write(command.encode() + b"\r")
    t = self.term.wait_for(prompt_at_least(self.next_prompt), timeout)
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


def keystroke_delays(s, count, interval):
  """Pipelined typing at the prompt: lines of up to 20 distinct lowercase
  letters, one key every `interval` s, each line killed with ^U. Returns each
  key's response time in ms (None if it never showed): from its write to the
  first screen where the input line holds everything typed up to and
  including it. `s` needs .term (a Terminal), .rtt (seconds) and .settle()."""
  letters = "abcdefghijklmnopqrstuvwxyz"
  delays, typed, line = [], 0, 0
  while typed < count:
    keys = "".join(letters[(line * 7 + i) % 26]
                   for i in range(min(20, count - typed)))
    sent, seen = [], []

    def observe(t):
      shown = input_line(s.term.screen.rows())
      while len(seen) < len(sent) and shown.startswith(keys[:len(seen) + 1]):
        seen.append(t)

    s.term.observer = observe
    for k in keys:
      sent.append(s.term.write(k.encode()))
      s.term.pump(interval)
    s.term.pump(max(1.0, 3 * s.rtt))
    s.term.observer = None
    delays += [(seen[i] - sent[i]) * 1000 if i < len(seen) else None
               for i in range(len(sent))]
    typed += len(keys)
    line += 1
    s.term.write(b"\x15")
    s.term.wait_for(lambda rows: input_line(rows) == "", 10)
    s.settle(0.5)
  return delays


def vim_typing_delays(s, count, interval, timeout):
  """Typing in vim's insert mode (no vimrc, an empty buffer): `i`, then
  lines of up to 20 distinct lowercase letters with Enter between them, one
  key every `interval` s, then Escape and :q!. Returns each letter's
  response time in ms (None if it never showed): from its write to the
  first screen whose row of that line (line n on screen row n: the lines
  are short and few) starts with everything typed on the line up to and
  including it."""
  s.settle()
  s.term.write(b"vim -u NONE -N -i NONE -n\r")
  if not s.term.wait_for(lambda rows: sum(r.startswith("~") for r in rows) >= ROWS - 3,
                         timeout):
    raise BenchError("vim did not start")
  s.term.pump(max(0.5, 2 * s.rtt))
  letters = "abcdefghijklmnopqrstuvwxyz"
  lines = []  # (row, keys, send times, times shown)

  def observe(t):
    rows = s.term.screen.rows()
    for row, keys, sent, seen in lines:
      while len(seen) < len(sent) and rows[row].startswith(keys[:len(seen) + 1]):
        seen.append(t)

  s.term.observer = observe
  s.term.write(b"i")
  s.term.pump(interval)
  typed = 0
  while typed < count:
    if lines:
      s.term.write(b"\r")
      s.term.pump(interval)
    n = len(lines)
    keys = "".join(letters[(n * 7 + i) % 26] for i in range(min(20, count - typed)))
    lines.append((n, keys, [], []))
    for k in keys:
      lines[-1][2].append(s.term.write(k.encode()))
      s.term.pump(interval)
    typed += len(keys)
  s.term.pump(max(1.0, 3 * s.rtt))
  s.term.observer = None
  delays = []
  for _, _, sent, seen in lines:
    delays += [(seen[i] - sent[i]) * 1000 if i < len(seen) else None
               for i in range(len(sent))]
  s.next_prompt += 1
  s.term.write(b"\x1b:q!\r")
  if s.term.wait_for(prompt_at_least(s.next_prompt), timeout) is None:
    raise BenchError("vim did not quit")
  s.settle(0.5)
  return delays


def keystrokes(s, count, interval, delays_of=keystroke_delays):
  """delays_of(s, count, interval) summarised: median, mean, p95, share
  under 5 ms (of the keys that showed)."""
  w0 = s.relay.stats()
  delays = delays_of(s, count, interval)
  # What the typing cost on the wire, both ways (the keys, their echoes and
  # acknowledgements, and whatever the typed commands drew).
  traffic = wire(w0, s.relay.stats())
  got = sorted(d for d in delays if d is not None)
  if not got:
    return {"keys": len(delays), "echoed": 0, "never_shown": len(delays), **traffic}
  return {"keys": len(delays), "echoed": len(got), "never_shown": len(delays) - len(got),
          "median_ms": statistics.median(got),
          "mean_ms": statistics.fmean(got),
          "p95_ms": got[min(len(got) - 1, int(0.95 * len(got)))],
          "under_5ms_share": sum(d < 5 for d in got) / len(got), **traffic}


def bulk(s, command, timeout):
  s.settle()
  w0, c0 = s.relay.stats(), s.cpu()
  seconds = s.run_command(command, timeout)
  s.term.pump(0.5)
  # What the flood still sends after the prompt (moshx's history stream:
  # its newest lines, 0.2 s after they scrolled off, at the link's pace)
  # is the flood's, on every link.
  s.settle(extra=0)
  w1, c1 = s.relay.stats(), s.cpu()
  out = {"seconds": seconds}
  out.update(wire(w0, w1))
  out["server_cpu_s"] = c1[0] - c0[0] if None not in (c0[0], c1[0]) else None
  out["client_cpu_s"] = c1[1] - c0[1] if None not in (c0[1], c1[1]) else None
  return out


def median_of(samples):
  """{"seconds": median or None if any sample failed, "samples": [...]}"""
  ok = None not in samples
  return {"seconds": statistics.median(samples) if ok and samples else None,
          "samples": samples}


def ctrl_c(s, flood_seconds, repeats):
  """^C after `flood_seconds` of an endless seq, until the next prompt."""
  samples = []
  for _ in range(repeats):
    s.settle()
    s.next_prompt += 1
    s.term.write(b"seq 1 999999999\r")
    s.term.pump(flood_seconds)
    start = s.term.write(b"\x03")
    t = s.term.wait_for(prompt_at_least(s.next_prompt), 20)
    samples.append(None if t is None else t - start)
    if t is None:
      # The sample failed, but the flood must not outlive it: the next
      # samples and workloads (idle, memory, roam) would measure it.
      for _ in range(6):
        s.term.write(b"\x03")
        if s.term.wait_for(prompt_at_least(s.next_prompt), 10) is not None:
          break
      else:
        raise BenchError("Ctrl-C did not stop the flood within 80 s")
  return median_of(samples)


def idle(s, seconds):
  # Long enough after the Ctrl-C test for retransmissions to have ended.
  s.settle(3.0)
  w0 = s.relay.stats()
  s.term.pump(seconds)
  d = wire(w0, s.relay.stats())
  return {"packets_per_min": d["packets"] * 60 / seconds,
          "bytes_per_min": d["bytes"] * 60 / seconds}


def roam(s, repeats):
  """Relay rebinds (the server sees a new client port), then a command is
  typed at once: seconds until its output (only the server can produce it:
  88888 is not in the typed text) is on the client's screen."""
  samples = []
  for i in range(repeats):
    s.settle()
    start = now()
    reply = s.relay.command("rebind")
    if not reply.startswith("ok"):
      raise BenchError(f"rebind failed: {reply}")
    s.next_prompt += 1
    digit = str(7 + i % 3)
    s.term.write(f"echo $(({digit}*11111))\r".encode())
    want = digit * 5
    t = s.term.wait_for(lambda rows: want in rows, 20)
    s.term.wait_for(prompt_at_least(s.next_prompt), 10)
    samples.append(None if t is None else t - start)
  return median_of(samples)


def vim_paging(s, big_file, pages, interval, timeout):
  """vim (no vimrc) on a file of numbered lines: ^F every `interval` s,
  `pages` times, then :q!. Wire bytes and server CPU from Enter on the
  vim command to the prompt after :q!; seconds = until the last page is on
  screen (its first line, `L<n>`, shows)."""
  s.settle()
  w0, c0 = s.relay.stats(), s.cpu()
  start = s.term.write(f"vim -u NONE -n {big_file}\r".encode())
  if not s.term.wait_for(lambda rows: any(r.startswith("L000001 ") for r in rows), timeout):
    raise BenchError("vim did not show the file")
  for _ in range(pages):
    s.term.write(b"\x06")  # ^F: one page down
    s.term.pump(interval)
  # vim's ^F moves by (rows - 2) lines: the last page shown starts there.
  first = 1 + pages * (ROWS - 1 - 2)
  want = f"L{first:06d} "
  t = s.term.wait_for(lambda rows: any(r.startswith(want) for r in rows), timeout)
  s.next_prompt += 1
  s.term.write(b"\x1b:q!\r")
  s.term.wait_for(prompt_at_least(s.next_prompt), timeout)
  s.term.pump(0.5)
  w1, c1 = s.relay.stats(), s.cpu()
  out = {"seconds": None if t is None else t - start}
  out.update(wire(w0, w1))
  out["server_cpu_s"] = c1[0] - c0[0] if None not in (c0[0], c1[0]) else None
  return out


def top_session(s, seconds, timeout):
  """`top -d 1` for `seconds`, then q: wire bytes and server CPU."""
  s.settle()
  w0, c0 = s.relay.stats(), s.cpu()
  s.term.write(b"top -d 1\r")
  if not s.term.wait_for(lambda rows: any("load average" in r for r in rows), timeout):
    raise BenchError("top did not start")
  s.term.pump(seconds)
  s.next_prompt += 1
  s.term.write(b"q")
  s.term.wait_for(prompt_at_least(s.next_prompt), timeout)
  s.term.pump(0.5)
  w1, c1 = s.relay.stats(), s.cpu()
  out = wire(w0, w1)
  out["server_cpu_s"] = c1[0] - c0[0] if None not in (c0[0], c1[0]) else None
  return out


def pty_floor(binary, count):
  """The pty alone: tools/benchmark/pty_floor draining `seq 1 count`."""
  out = subprocess.run([binary, "--", "seq", "1", str(count)],
                       capture_output=True, timeout=300, check=False)
  if out.returncode != 0:
    raise BenchError(f"pty_floor failed: {out.stderr.decode()!r}")
  return json.loads(out.stdout.decode())


WORKLOADS = ("keystroke", "vimtype", "seq", "base64", "vim", "top", "ctrl_c", "idle",
             "memory", "roam")


def measure_workloads(s, r, want, args, noise_file, big_file):
  """Runs the chosen workloads on session `s`, each result into r."""
  if "keystroke" in want:
    r["keystroke"] = keystrokes(s, args.keys, args.key_interval)
  if "vimtype" in want:
    r["vimtype"] = keystrokes(
        s, args.keys, args.key_interval,
        lambda s, n, i: vim_typing_delays(s, n, i, args.bulk_timeout))
  if "seq" in want:
    r["seq"] = bulk(s, f"seq 1 {args.seq}", args.bulk_timeout)
  if "base64" in want:
    r["base64"] = bulk(s, f"base64 {noise_file}", args.bulk_timeout)
  if "vim" in want:
    r["vim"] = vim_paging(s, big_file, args.vim_pages, args.vim_interval,
                          args.bulk_timeout)
  if "top" in want:
    r["top"] = top_session(s, args.top_seconds, args.bulk_timeout)
  if "ctrl_c" in want:
    r["ctrl_c"] = ctrl_c(s, args.flood_seconds, args.repeats)
  if "idle" in want:
    r["idle"] = idle(s, args.idle_seconds)
  if "memory" in want:
    r["memory"] = {"server": memory_kib(s.server["pid"]),
                   "client": memory_kib(s.term.proc.pid)}
  if "roam" in want:
    r["roam"] = roam(s, args.repeats)


def measure(impl, link, args, tracker, home, noise_file, big_file):
  want = set(args.workloads.split(","))
  try:
    s = Session(impl, link, args, tracker, home)
    try:
      r = {}
      try:
        measure_workloads(s, r, want, args, noise_file, big_file)
      except BenchError as e:
        # A workload that leaves the session unusable (mosh's flood that
        # Ctrl-C did not stop within 80 s) ends this implementation's run
        # on the link; what the workloads before it measured is kept.
        if not r:
          raise
        r["error"] = str(e)
        print(f"bench: {impl.name} on {link['name']}: {e} (earlier workloads kept)",
              file=sys.stderr, flush=True)
      return r
    finally:
      s.close()
      if s.server.get("proc") is not None:
        # A wrapped server (valgrind) writes its profile as it exits.
        try:
          s.server["proc"].wait(timeout=60 if args.server_wrapper else 5)
        except subprocess.TimeoutExpired:
          pass
  finally:
    tracker.kill_all()


# ---------------------------------------------------------------- report

# (label, path into the per-implementation result, goal ratio or None)
METRICS = [
    ("keystroke median ms", ("keystroke", "median_ms"), 1.0),
    ("keystroke mean ms", ("keystroke", "mean_ms"), None),
    ("keystroke p95 ms", ("keystroke", "p95_ms"), None),
    ("keystroke share < 5 ms", ("keystroke", "under_5ms_share"), None),
    ("keystroke wire packets", ("keystroke", "packets"), None),
    ("keystroke wire bytes", ("keystroke", "bytes"), None),
    ("vim typing median ms", ("vimtype", "median_ms"), None),
    ("vim typing share < 5 ms", ("vimtype", "under_5ms_share"), None),
    ("vim typing keys never shown", ("vimtype", "never_shown"), None),
    ("vim typing wire packets", ("vimtype", "packets"), None),
    ("vim typing wire bytes", ("vimtype", "bytes"), None),
    ("seq wire bytes", ("seq", "bytes"), 1.0),
    ("seq wire packets", ("seq", "packets"), None),
    ("seq server CPU s", ("seq", "server_cpu_s"), 0.1),
    ("seq client CPU s", ("seq", "client_cpu_s"), None),
    ("seq seconds to prompt", ("seq", "seconds"), None),
    ("base64 wire bytes", ("base64", "bytes"), 1.0),
    ("base64 wire packets", ("base64", "packets"), None),
    ("base64 server CPU s", ("base64", "server_cpu_s"), 0.1),
    ("base64 client CPU s", ("base64", "client_cpu_s"), None),
    ("vim paging wire bytes", ("vim", "bytes"), 1.0),
    ("vim paging server CPU s", ("vim", "server_cpu_s"), None),
    ("vim paging seconds", ("vim", "seconds"), None),
    ("top wire bytes", ("top", "bytes"), 1.0),
    ("top server CPU s", ("top", "server_cpu_s"), None),
    ("Ctrl-C to prompt s (median)", ("ctrl_c", "seconds"), 1.0),
    ("idle packets/min", ("idle", "packets_per_min"), 1.0),
    ("server RSS KiB", ("memory", "server", "VmRSS"), 1.0),
    ("server peak RSS KiB", ("memory", "server", "VmHWM"), None),
    # VmRSS = RssAnon (the process's own memory) + RssFile (pages of the
    # executable mapped in; shared by every process of the same binary, and
    # on kernels whose page cache holds large folios a fault maps a whole
    # folio, so it depends on the kernel more than on the program).
    ("server RSS anon KiB", ("memory", "server", "RssAnon"), None),
    ("server RSS file KiB", ("memory", "server", "RssFile"), None),
    ("client RSS KiB", ("memory", "client", "VmRSS"), None),
    ("roam resume s (median)", ("roam", "seconds"), None),
]


def dig(result, path):
  for key in path:
    if not isinstance(result, dict) or key not in result:
      return None
    result = result[key]
  return result


# Enter to prompt after the seq flood, over the pty floor's time for the
# same command (tools/benchmark/pty_floor, measured just before): issue 19's
# goal is moshx <= 1.2.
FLOOR_METRIC = "seq seconds to prompt / pty floor"
FLOOR_GOAL = 1.2


def result_lines(link, by_impl, floor=None):
  lines = []
  if floor is not None:
    f = floor.get("seconds")
    a = dig(by_impl.get("moshx"), ("seq", "seconds"))
    b = dig(by_impl.get("mosh"), ("seq", "seconds"))
    a = a / f if a is not None and f else None
    b = b / f if b is not None and f else None
    lines.append({"type": "result", "link": link["name"], "metric": FLOOR_METRIC,
                  "moshx": a, "mosh": b,
                  "ratio": a / b if a is not None and b else None,
                  "goal_max_ratio": None, "goal_max_moshx": FLOOR_GOAL,
                  "goal_met": None if a is None else a <= FLOOR_GOAL,
                  "floor": floor})
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
         "is moshx/mosh measured in the same run. Everything above the Notes "
         "heading is rewritten by each run.", "",
         f"- Date: {header['date']}",
         f"- Machine: {header['machine']}",
         f"- mosh: {header['mosh_version']}; moshx: {header['moshx_version']}"
         f" from {header.get('source', 'unknown')}",
         "- Links (udp_relay on loopback, same seed for both): " + ", ".join(
             f"{l['name']} = {2 * l['delay_ms']:g} ms RTT"
             + (f", {l['loss']:.0%} loss each way" if l["loss"] else "")
             for l in links),
         ""]
  names = [l["name"] for l in links]
  out.append("Each cell: moshx / mosh = ratio (goal: ratio at most the goal).")
  out.append("")
  out.append("| metric | goal | " + " | ".join(names) + " |")
  out.append("|---|---|" + "---|" * len(names))
  for label, _, goal in METRICS:
    row = [label, "" if goal is None else f"<= {goal:g}"]
    for n in names:
      line = next(x for x in lines if x["link"] == n and x["metric"] == label)
      cell = f"{fmt(line['moshx'])} / {fmt(line['mosh'])} = {fmt(line['ratio'])}"
      if goal is not None and line["ratio"] is not None:
        cell += " ok" if line["ratio"] <= goal else " **missed**"
      row.append(cell)
    out.append("| " + " | ".join(row) + " |")
  floor_lines = [x for x in lines if x["metric"] == FLOOR_METRIC]
  if floor_lines:
    out.append("")
    out.append("Against the pty alone (tools/benchmark/pty_floor draining the same "
               "`seq` on an 80x24 pty, run just before each link's sessions): "
               "Enter-to-prompt seconds / floor seconds (goal: moshx at most "
               f"{FLOOR_GOAL:g}).")
    out.append("")
    out.append("| link | floor s (reader CPU s) | moshx / floor | mosh / floor |")
    out.append("|---|---|---|---|")
    for n in names:
      line = next((x for x in floor_lines if x["link"] == n), None)
      if line is None:
        continue
      fl = line["floor"]
      mark = "" if line["moshx"] is None else (
          " ok" if line["moshx"] <= FLOOR_GOAL else " **missed**")
      out.append(f"| {n} | {fmt(fl.get('seconds'))} ({fmt(fl.get('cpu_s'))}) | "
                 f"{fmt(line['moshx'])}{mark} | {fmt(line['mosh'])} |")
  out.append("")
  return "\n".join(out)


def keep_notes(path):
  """The hand-written part of an existing table file: from NOTES_HEADING on."""
  try:
    with open(path) as f:
      text = f.read()
  except OSError:
    return ""
  at = text.find(NOTES_HEADING)
  return "\n" + text[at:] if at >= 0 else ""


NOTES_HEADING = "## Notes"


def version(argv):
  try:
    out = subprocess.run(argv, capture_output=True, timeout=5, check=False)
    text = (out.stdout + out.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else "unknown"
  except (OSError, subprocess.TimeoutExpired):
    return "unknown"


def source():
  """Commit of the checkout the bench runs in, and whether tracked files
  differ from it (then the moshx binary may include uncommitted work)."""
  def git(*a):
    out = subprocess.run(["git", *a], capture_output=True, text=True,
                         timeout=10, check=False)
    return out.stdout.strip() if out.returncode == 0 else None
  try:
    commit = git("rev-parse", "--short=12", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
  except (OSError, subprocess.TimeoutExpired):
    return "unknown"
  if commit is None:
    return "unknown"
  return commit + (" + uncommitted changes" if dirty else "")


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
  p.add_argument("--moshx", help="moshx binary (required unless --render)")
  p.add_argument("--relay", help="tools/netem udp_relay binary (ditto)")
  p.add_argument("--mosh-server", default="/usr/bin/mosh-server")
  p.add_argument("--mosh-client", default="/usr/bin/mosh-client")
  p.add_argument("--impls", default="mosh,moshx")
  p.add_argument("--links", default=",".join(LINKS))
  p.add_argument("--keys", type=int, default=60)
  p.add_argument("--key-interval", type=float, default=0.12)
  p.add_argument("--seq", type=int, default=3000000)
  p.add_argument("--noise-bytes", type=int, default=1500000)
  p.add_argument("--vim-pages", type=int, default=60)
  p.add_argument("--vim-interval", type=float, default=0.1,
                 help="seconds between vim's page-down keys")
  p.add_argument("--vim-lines", type=int, default=5000,
                 help="lines in the file vim pages through")
  p.add_argument("--top-seconds", type=float, default=30)
  p.add_argument("--pty-floor", help="tools/benchmark/pty_floor binary: "
                 "measures the pty alone draining the seq workload per link")
  p.add_argument("--flood-seconds", type=float, default=1.5)
  p.add_argument("--repeats", type=int, default=3,
                 help="Ctrl-C and roaming samples (median reported)")
  p.add_argument("--idle-seconds", type=float, default=20)
  p.add_argument("--bulk-timeout", type=float, default=120)
  p.add_argument("--seed", type=int, default=1)
  p.add_argument("--workloads", default=",".join(WORKLOADS),
                 help="comma-separated subset of: " + ",".join(WORKLOADS))
  p.add_argument("--server-wrapper", metavar="CMD",
                 help="prefix for the moshx server command, e.g. \"valgrind "
                 "--tool=callgrind --callgrind-out-file=/tmp/cg.out\" "
                 "(profiling; figures then measure the wrapper too)")
  p.add_argument("--predict", choices=("adaptive", "always", "never"),
                 help="the clients' local echo (moshx client --predict, "
                 "mosh-client's MOSH_PREDICTION_DISPLAY); default: theirs "
                 "(adaptive). `never` times the echo itself")
  p.add_argument("--serve-flags", metavar="FLAGS",
                 help='extra `moshx serve` flags, e.g. "--scrollback 0"')
  p.add_argument("--json", help="write JSON lines here (default stdout)")
  p.add_argument("--markdown", help="write the table here")
  p.add_argument("--render", metavar="JSONL",
                 help="only rewrite --markdown from an earlier run's JSON lines")
  p.add_argument("--command", default="tools/bench",
                 help="command named in the markdown")
  return p.parse_args(argv)


def write_markdown(path, header, lines, links, command):
  notes = keep_notes(path)
  with open(path, "w") as f:
    f.write(markdown(header, lines, links, command) + notes)


def render(args):
  """Rewrites the table from the JSON lines of an earlier run."""
  with open(args.render) as f:
    records = [json.loads(line) for line in f if line.strip()]
  header = next(r for r in records if r["type"] == "run")
  lines = [r for r in records if r["type"] == "result"]
  names = list(dict.fromkeys(r["link"] for r in lines))
  write_markdown(args.markdown, header, lines, [LINKS[n] for n in names],
                 args.command)
  return 0


def main(argv):
  args = parse_args(argv)
  if args.render:
    return render(args)
  if not args.moshx or not args.relay:
    print("bench: --moshx and --relay are required", file=sys.stderr)
    return 2
  impls = {"mosh": Mosh, "moshx": Moshx}
  chosen = [impls[n](args) for n in args.impls.split(",")]
  links = [LINKS[n] for n in args.links.split(",")]
  tracker = Tracker()
  signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
  # A command started in the background by a non-interactive shell (nohup
  # ... &, CI) begins with SIGINT and SIGQUIT ignored, and ignored signals
  # stay ignored across exec: every server, shell and `seq` started from
  # here would ignore ^C. mosh-server passes that on to its shell (its
  # Ctrl-C "did not stop the flood" in every background run until
  # 2026-12-07; moshx's session sets them to default itself). Handled
  # signals are reset to default by exec, so the sessions start as from a
  # terminal.
  signal.signal(signal.SIGINT, signal.default_int_handler)
  signal.signal(signal.SIGQUIT, lambda *_: sys.exit(1))
  home = tempfile.mkdtemp(prefix="moshx-bench.")
  noise = os.path.join(home, "noise.bin")
  with open(noise, "wb") as f:
    f.write(random.Random(args.seed).randbytes(args.noise_bytes))
  big_file = os.path.join(home, "paging.txt")
  words = random.Random(args.seed + 1)
  with open(big_file, "w") as f:
    for i in range(1, args.vim_lines + 1):
      text = " ".join(words.choice(("alpha", "beta", "gamma", "delta", "sigma",
                                    "omega", "kappa", "theta"))
                      for _ in range(words.randrange(1, 12)))
      f.write(f"L{i:06d} {text}\n")
  header = {"type": "run",
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "mosh_version": version([args.mosh_server, "--version"]),
            "moshx_version": version([args.moshx, "--version"]),
            "source": source(),
            "args": {k: v for k, v in vars(args).items()
                     if k not in ("json", "markdown")}}
  out = open(args.json, "w") if args.json else sys.stdout
  lines, failures, floors = [], 0, {}
  try:
    print(json.dumps(header), file=out, flush=True)
    for link in links:
      by_impl = {}
      if args.pty_floor:
        floor = pty_floor(args.pty_floor, args.seq)
        print(json.dumps({"type": "floor", "link": link["name"],
                          "command": f"seq 1 {args.seq}", "result": floor}),
              file=out, flush=True)
        floors[link["name"]] = floor
      for impl in chosen:
        print(f"bench: {link['name']} {impl.name}", file=sys.stderr, flush=True)
        try:
          by_impl[impl.name] = measure(impl, link, args, tracker, home, noise,
                                       big_file)
          if "error" in by_impl[impl.name]:  # failed after some workloads
            failures += 1
        except (BenchError, OSError, subprocess.SubprocessError) as e:
          print(f"bench: {impl.name} on {link['name']} failed: {e}",
                file=sys.stderr, flush=True)
          by_impl[impl.name] = {"error": str(e)}
          failures += 1
        raw = {"type": "raw", "link": link["name"], "impl": impl.name,
               "result": by_impl[impl.name]}
        print(json.dumps(raw), file=out, flush=True)
      for line in result_lines(link, by_impl, floors.get(link["name"])):
        lines.append(line)
        print(json.dumps(line), file=out, flush=True)
  finally:
    tracker.kill_all()
    shutil.rmtree(home, ignore_errors=True)
    if out is not sys.stdout:
      out.close()
  if args.markdown:
    write_markdown(args.markdown, header, lines, links, args.command)
  return 1 if failures else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
