#!/usr/bin/env python3
"""Keystroke echo and Ctrl-C-to-prompt over the SSH path beside UDP (issue 15).

    tools/benchmark/ssh_path_bench.sh [--rtts 50,200] [--keys 12] [--ctrl-c 2]
                                      [--key-interval 0.2] [--flood-seconds 1.5]
                                      [--link rate=1mbit,queue=250ms]
    tools/benchmark/ssh_path.py --render RUN.jsonl...   (pooled table)

Run through ssh_path_bench.sh (root): it creates two network namespaces
joined by tools/netem's TUN relay (which delays TCP and UDP alike), an sshd
in the server's, copies moshx where the test user can run it, and passes
this script --netns, --ssh, --server and the relay's control socket.

Both sessions, `moshx connect --transport ssh` and `--transport udp` (same
binary, `--predict never`, so every echo is a round trip through the
server), run at the same time, each on a pty this script owns with a
libvterm screen (bench.py's Terminal/Screen). For each RTT the relay delays
each direction by RTT/2, and the two transports take turns round by round
(which one goes first alternates), so a busy machine weighs on both alike:

  keystroke echo  bench.keystroke_delays: a key written to the client's pty
                  -> the input line on the client's screen holds it;
                  median and p90 of --keys keys per transport and RTT
  Ctrl-C          `seq 1 999999999`, ^C after --flood-seconds -> the next
                  prompt on the client's screen (bench.ctrl_c); median of
                  --ctrl-c samples per transport and RTT

There are --ctrl-c rounds; the --keys are split over them. The defaults
take about 50 s (this project's machines allow benchmarks a minute): for
more samples run it again and pool the runs with --render.

Output: JSON lines on stdout (a "run" header with the load average, one
"result" per RTT, transport and metric with every sample, an "end" line with
the load average again) and a table on stderr. Nothing here asserts timings.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (Terminal, Screen, keystroke_delays, ctrl_c)

TRANSPORTS = ("ssh", "udp")
# The shell on the server: bench.py's numbered prompt, no rc files.
REMOTE_SHELL = ["env", r"PS1=BENCH\#>", "HISTFILE=/dev/null",
                "/bin/bash", "--norc", "--noprofile", "-i"]


class Relay:
  """tools/netem tun_relay's control socket (netns_lib's relay)."""

  def __init__(self, binary, sock):
    self.binary, self.sock = binary, sock

  def set_rtt(self, rtt_ms, extra=""):
    # `client` is both of the client's links: RTT/2 each way, and `extra`
    # (tools/netem/README.md's keys, e.g. rate=2mbit,queue=100ms) on both.
    spec = f"delay={rtt_ms / 2:g}ms" + (f",{extra}" if extra else "")
    out = subprocess.run([self.binary, "ctl", self.sock, "set", "client", spec],
                         capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0:
      raise bench.BenchError(f"relay set client {spec}: {out.stdout}{out.stderr}")


class Session:
  """One `moshx connect --transport T` on a pty; what bench.keystroke_delays
  and bench.ctrl_c need (.term, .rtt, .next_prompt, .settle)."""

  def __init__(self, transport, args, tracker, home):
    self.transport = transport
    self.rtt = 0.0
    argv = (["ip", "netns", "exec", args.netns, args.moshx, "connect",
             "--transport", transport, "--predict", "never", "--ssh", args.ssh,
             "--server", args.server, args.host, "--"] + REMOTE_SHELL)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": home,
           "LANG": "C.UTF-8", "TERM": "xterm-256color"}
    self.term = bench.Terminal(argv, env, tracker)
    if not self.term.wait_for(bench.prompt_at_least(1), 40):
      raise bench.BenchError(f"--transport {transport}: no prompt; screen: "
                             f"{[r for r in self.term.screen.rows() if r]}")
    self.next_prompt = max(bench.prompt_numbers(self.term.screen.rows()))

  def settle(self, extra=0.3):
    self.term.pump(2 * self.rtt + extra)

  def close(self):
    """Ends the shell, without waiting for it (the namespaces' cleanup stops
    whatever is left)."""
    try:
      self.term.write(b"\x15exit\r")
      self.term.pump(0.2)
    except OSError:
      pass
    self.term.close()


def split(total, rounds):
  """`total` as `rounds` near-equal parts (the larger ones first)."""
  return [total // rounds + (1 if i < total % rounds else 0)
          for i in range(rounds)]


def p90(values):
  """Nearest-rank 90th percentile."""
  v = sorted(values)
  return v[max(0, -(-9 * len(v) // 10) - 1)]


def summarise(samples_ms):
  got = [x for x in samples_ms if x is not None]
  out = {"n": len(samples_ms), "missing": len(samples_ms) - len(got),
         "samples_ms": [None if x is None else round(x, 1) for x in samples_ms]}
  if got:
    out["median_ms"] = statistics.median(got)
    out["p90_ms"] = p90(got)
  else:
    out["median_ms"] = out["p90_ms"] = None
  return out


def measure_rtt(rtt_ms, sessions, relay, args, log):
  """Both transports at one RTT, interleaved; {transport: {metric: [ms]}}."""
  relay.set_rtt(rtt_ms, args.link)
  raw = {t: {"keystroke_echo": [], "ctrl_c": []} for t in sessions}
  for s in sessions.values():
    s.rtt = rtt_ms / 1000
    # Let both ends' RTT estimates (SSP's, TCP's) see the new delay.
    s.term.write(b"x")
    s.settle()
    s.term.write(b"\x15")
    s.settle()
  rounds = max(args.ctrl_c, 1)
  keys = split(args.keys, rounds)
  for r in range(rounds):
    order = list(sessions) if r % 2 == 0 else list(reversed(sessions))
    for t in order:
      s = sessions[t]
      log(f"ssh_path: RTT {rtt_ms} ms, round {r + 1}/{rounds}, {t}")
      if keys[r]:
        raw[t]["keystroke_echo"] += bench.keystroke_delays(s, keys[r],
                                                           args.key_interval)
      if r < args.ctrl_c:
        c = bench.ctrl_c(s, args.flood_seconds, 1)["samples"][0]
        raw[t]["ctrl_c"].append(None if c is None else c * 1000)
  return raw


def fmt(v):
  return "n/a" if v is None else f"{v:.0f}"


def row_label(rtt_ms, link):
  return f"{rtt_ms} ms" + (f", {link}" if link else "")


def table(results, rows, transports):
  """results: {(row label, transport, metric): summarise(...)}."""
  out = ["| RTT | transport | keystroke echo median ms | p90 ms | keys "
         "| Ctrl-C to prompt median ms | samples |",
         "|---|---|---|---|---|---|---|"]
  for row in rows:
    for t in transports:
      k = results[(row, t, "keystroke_echo")]
      c = results[(row, t, "ctrl_c")]
      out.append(f"| {row} | {t} | {fmt(k['median_ms'])} | {fmt(k['p90_ms'])} "
                 f"| {k['n'] - k['missing']}/{k['n']} | {fmt(c['median_ms'])} "
                 f"| {c['n'] - c['missing']}/{c['n']} |")
  return "\n".join(out)


def pool(paths):
  """Results of several runs' JSON lines, every sample pooled per RTT,
  transport and metric; (results, row labels, transports, runs)."""
  samples, rows, transports, runs = {}, [], [], 0
  for path in paths:
    with open(path) as f:
      for line in f:
        r = json.loads(line)
        runs += r["type"] == "run"
        if r["type"] != "result":
          continue
        row = row_label(r["rtt_ms"], r.get("link", ""))
        rows += [row] if row not in rows else []
        transports += [r["transport"]] if r["transport"] not in transports else []
        samples.setdefault((row, r["transport"], r["metric"]), []).extend(
            r["samples_ms"])
  return ({k: summarise(v) for k, v in samples.items()}, rows, transports, runs)


def load():
  return [round(x, 2) for x in os.getloadavg()]


def parse_args(argv):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--render", nargs="+", metavar="JSONL",
                 help="only print the table of earlier runs' JSON lines, "
                 "their samples pooled")
  p.add_argument("--netns", help="the client's network namespace")
  p.add_argument("--ssh", help="ssh command for --ssh")
  p.add_argument("--host", default="server", help="ssh destination")
  p.add_argument("--moshx", help="moshx run in the client namespace")
  p.add_argument("--server", help="moshx path on the server")
  p.add_argument("--relay", help="tools/netem tun_relay binary")
  p.add_argument("--relay-sock", help="its control socket")
  p.add_argument("--rtts", default="50,200", help="RTTs in ms (comma-separated)")
  p.add_argument("--link", default="", metavar="SPEC",
                 help="more link keys for both directions at every RTT, e.g. "
                 "rate=2mbit,queue=100ms (tools/netem/README.md); default clean")
  p.add_argument("--transports", default=",".join(TRANSPORTS))
  p.add_argument("--keys", type=int, default=12,
                 help="keys per transport and RTT (split over the rounds)")
  p.add_argument("--key-interval", type=float, default=0.2,
                 help="seconds between keys")
  p.add_argument("--ctrl-c", type=int, default=2,
                 help="Ctrl-C samples per transport and RTT (one per round)")
  p.add_argument("--flood-seconds", type=float, default=1.5)
  return p.parse_args(argv)


def main(argv):
  args = parse_args(argv)
  if args.render:
    results, rows, transports, runs = pool(args.render)
    print(f"{runs} runs pooled")
    print(table(results, rows, transports))
    return 0
  if None in (args.netns, args.ssh, args.moshx, args.server, args.relay,
              args.relay_sock):
    print("ssh_path: run through tools/benchmark/ssh_path_bench.sh",
          file=sys.stderr)
    return 2
  rtts = [int(x) for x in args.rtts.split(",")]
  transports = args.transports.split(",")
  if any(t not in TRANSPORTS for t in transports):
    print(f"ssh_path: --transports: {args.transports}", file=sys.stderr)
    return 2

  start = bench.now()

  def log(text):
    print(f"{text} (+{bench.now() - start:.1f} s)", file=sys.stderr, flush=True)

  tracker = bench.Tracker()
  signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
  home = tempfile.mkdtemp(prefix="moshx-ssh-path.")
  relay = Relay(args.relay, args.relay_sock)
  header = {"type": "run",
            "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "machine": bench.machine(),
            "moshx_version": bench.version([args.moshx, "--version"]),
            "source": bench.source(),
            "load_average": load(),
            "args": {k: v for k, v in vars(args).items()
                     if k not in ("netns", "ssh", "relay", "relay_sock")}}
  print(json.dumps(header), flush=True)
  sessions, results, failed = {}, {}, False
  try:
    relay.set_rtt(0)
    for t in transports:
      log(f"ssh_path: starting --transport {t}")
      sessions[t] = Session(t, args, tracker, home)
    for rtt in rtts:
      raw = measure_rtt(rtt, sessions, relay, args, log)
      for t in transports:
        for metric, samples in raw[t].items():
          r = summarise(samples)
          failed |= r["missing"] > 0
          results[(row_label(rtt, args.link), t, metric)] = r
          print(json.dumps(dict({"type": "result", "rtt_ms": rtt,
                                 "link": args.link, "transport": t,
                                 "metric": metric}, **r)),
                flush=True)
  finally:
    for s in sessions.values():
      s.close()
    tracker.kill_all()
    shutil.rmtree(home, ignore_errors=True)
  log("ssh_path: done")
  print(json.dumps({"type": "end", "load_average": load()}), flush=True)
  print(table(results, [row_label(r, args.link) for r in rtts], transports),
        file=sys.stderr)
  return 1 if failed else 0


if __name__ == "__main__":
  try:
    sys.exit(main(sys.argv[1:]))
  except bench.BenchError as e:
    print(f"ssh_path: {e}", file=sys.stderr)
    sys.exit(1)
