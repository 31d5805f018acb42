#!/usr/bin/env python3
"""Keystroke echo, timed on the client's pty itself (issue 16's benchmark).

  echo_probe.py [--samples N] [--interval S] [--during CMD] [--ready REGEX] -- CMD...

Runs CMD (a terminal client: `moshx connect --predict never ...`, or a plain
shell for the floor) on a pty of 80x24 and waits until its output shows
REGEX (a prompt). Then types N letters, one every S seconds, each timed from
the write to the pty until the client writes that letter back (escape
sequences skipped): with local echo off, one round trip through the whole
session. With --during, CMD2 (a shell command, e.g. a bulk transfer) is then
started, and after 3 s the same N samples are taken while it runs; it must
still be running when they end, and must exit 0.

Prints one line per phase, `echo_probe: PHASE ms: S1 S2 ...; median M`, and
exits 1 if a letter is not echoed within 5 s or CMD2 fails. The letters are
typed at a shell prompt and erased (Ctrl-U) after each phase; the client is
asked to end with `exit` and is killed if it has not after 10 s.

Why not tmux: polling `tmux capture-pane` from a shell costs tens of
milliseconds per look on a busy machine (a local /bin/sh measured a 105 ms
median that way), more than the 20 ms the goal allows above the RTT.
"""
import argparse
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import fcntl
import time

ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-~]|[@-Z\\-_])")


class Pty:
  def __init__(self, argv):
    self.pid, self.fd = pty.fork()
    if self.pid == 0:
      try:
        os.execvp(argv[0], argv)
      finally:
        os._exit(127)
    fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    self.text = b""  # output so far, escape sequences removed

  def read(self, timeout):
    """Reads what arrives within `timeout` (at least one chunk if any)."""
    ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
    if not ready:
      return False
    try:
      data = os.read(self.fd, 65536)
    except OSError:
      data = b""
    if not data:
      raise EOFError("the client ended")
    # A sequence split across reads is rare with these small writes; the
    # text is kept to 64 KiB so a long session does not grow it.
    self.text = (self.text + ESCAPES.sub(b"", data))[-65536:]
    return True

  def wait_for(self, pattern, timeout):
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while not regex.search(self.text):
      if time.monotonic() >= deadline:
        return False
      self.read(deadline - time.monotonic())
    return True


def samples(term, n, interval):
  letters = "qwertyuiopasdfghjklz"
  out = []
  for k in range(n):
    letter = letters[k % len(letters)].encode()
    term.text = b""
    t0 = time.monotonic()
    os.write(term.fd, letter)
    deadline = t0 + 5
    while letter not in term.text:
      if time.monotonic() >= deadline:
        raise TimeoutError(f"{letter!r} not echoed within 5 s")
      term.read(deadline - time.monotonic())
    out.append((time.monotonic() - t0) * 1000)
    end = time.monotonic() + interval
    while time.monotonic() < end:  # keep draining
      term.read(end - time.monotonic())
  os.write(term.fd, b"\x15")  # Ctrl-U: the line is empty again
  term.read(0.3)
  return out


def report(phase, ms):
  print(f"echo_probe: {phase} ms: {' '.join(f'{x:.1f}' for x in ms)}; "
        f"median {statistics.median(ms):.1f}", flush=True)


def main(argv):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--samples", type=int, default=20)
  p.add_argument("--interval", type=float, default=0.2)
  p.add_argument("--ready", default=r"[$#] *$", help="regex of the prompt")
  p.add_argument("--ready-timeout", type=float, default=30)
  p.add_argument("--during", metavar="CMD2")
  p.add_argument("--label", default="idle")
  p.add_argument("command", nargs="+")
  a = p.parse_args(argv)
  term = Pty(a.command)
  status = 0
  try:
    if not term.wait_for(a.ready.encode(), a.ready_timeout):
      print(f"echo_probe: no prompt within {a.ready_timeout} s; output: {term.text[-300:]!r}",
            file=sys.stderr)
      return 1
    term.read(0.5)
    report(a.label, samples(term, a.samples, a.interval))
    if a.during:
      job = subprocess.Popen(a.during, shell=True)
      end = time.monotonic() + 3
      while time.monotonic() < end:
        term.read(end - time.monotonic())
      ms = samples(term, a.samples, a.interval)
      still = job.poll() is None
      report("during", ms)
      if not still:
        print("echo_probe: the --during command ended before the samples did", file=sys.stderr)
        status = 1
      while job.poll() is None:
        term.read(0.2)
      if job.returncode != 0:
        print(f"echo_probe: the --during command failed ({job.returncode})", file=sys.stderr)
        status = 1
    os.write(term.fd, b"exit\r")
    try:
      end = time.monotonic() + 10
      while time.monotonic() < end:
        term.read(end - time.monotonic())
    except EOFError:
      pass
  except (TimeoutError, EOFError) as e:
    print(f"echo_probe: {e}", file=sys.stderr)
    status = 1
  finally:
    try:
      os.kill(term.pid, signal.SIGKILL)
    except ProcessLookupError:
      pass
    os.waitpid(term.pid, 0)
  return status


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
