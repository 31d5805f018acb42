#!/usr/bin/env python3
"""Records the output of a real program on a pseudo-terminal as a testdata/vt/*.in stream.

Usage: record.py NAME   (writes NAME.in next to this script; see SCENARIOS below)

Each scenario starts a program on a fresh pty of a fixed size with TERM=xterm-256color and
LANG=C.UTF-8, types the scripted keystrokes with pauses, and stores every byte the program
wrote. A window-size change is recorded in-band as the marker
    ESC _ moshx-resize;ROWS;COLS ESC \\
(an APC string, which terminals ignore) at the exact point of the stream where the pty was
resized; the golden tool (term:vt_golden) splits the stream there and calls Resize().
The recording is what is checked in; re-recording is only needed to add or refresh a case.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def resize_marker(rows, cols):
    return b"\x1b_moshx-resize;%d;%d\x1b\\" % (rows, cols)


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def record(argv, steps, rows=24, cols=80, cwd=None, extra_env=None):
    env = {
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": cwd or "/tmp",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PS1": "$ ",
    }
    env.update(extra_env or {})
    pid, fd = pty.fork()
    if pid == 0:
        if cwd:
            os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    set_winsize(fd, rows, cols)
    out = bytearray()

    def drain(seconds):
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            out.extend(data)

    drain(0.5)
    for step in steps:
        kind = step[0]
        if kind == "send":
            for ch in step[1]:
                os.write(fd, bytes([ch]))
                drain(step[2] if len(step) > 2 else 0.02)
        elif kind == "wait":
            drain(step[1])
        elif kind == "resize":
            drain(0.2)
            out.extend(resize_marker(step[1], step[2]))
            set_winsize(fd, step[1], step[2])
            drain(0.5)
    drain(0.5)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return bytes(out)


BASH = ["bash", "--norc", "--noprofile", "-i"]


def line(text, pause=0.6):
    return [("send", text.encode() + b"\r", 0.005), ("wait", pause)]


def make_ls_dir():
    d = "/tmp/moshx-vt-ls"
    os.system("rm -rf %s && mkdir -p %s/subdir && cd %s && touch plain.txt archive.tar.gz "
              "photo.png && printf '#!/bin/sh\\n' > run.sh && chmod +x run.sh && "
              "ln -sf plain.txt link && ln -sf missing broken && mkfifo pipe" % (d, d, d))
    return d


def sample_c_file():
    d = "/tmp/moshx-vt-vim"
    os.makedirs(d, exist_ok=True)
    with open(d + "/hello.c", "w") as f:
        f.write("#include <stdio.h>\n\n/* A small file for the editor recording. */\n")
        for i in range(60):
            f.write("int f%d(int x) { return x * %d; }  // line %d\n" % (i, i, i))
        f.write("\nint main(void) {\n  printf(\"hello, world\\n\");\n  return 0;\n}\n")
    return d


SCENARIOS = {
    "ls_color": lambda: record(
        BASH,
        line("eval \"$(dircolors -b)\"") +
        line("ls --color=always -lgo --time-style=+") +
        line("ls --color=always -F") +
        line("ls --color=always") +
        line("echo done"),
        cwd=make_ls_dir()),
    "vim_edit": lambda: record(
        ["vim", "-u", "NONE", "-N", "-c", "syntax on", "-c", "set number ruler", "hello.c"],
        [("wait", 1.0),
         ("send", b"jjjjo", 0.05),
         ("send", "typed in insert mode: \u00e9t\u00e9 \u4e2d\u6587".encode(), 0.01),
         ("send", b"\x1b", 0.3),
         ("send", b"\x06", 0.3),   # page down: scrolls
         ("send", b"\x06", 0.3),
         ("send", b"\x02", 0.3),   # page up
         ("send", b"jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj", 0.03),  # line-by-line scrolling
         ("send", b"ddddkkk", 0.05),
         ("send", b":s/int/long/\r", 0.02),
         ("wait", 0.5)],
        cwd=sample_c_file()),
    "top": lambda: record(
        ["top", "-d", "0.3"],
        [("wait", 1.5), ("send", b"M", 0.5), ("wait", 1.0)]),
    "cjk_emoji": lambda: record(
        BASH,
        line("printf '\u4e2d\u6587\u5b57\u7b26 \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 "
             "\ud55c\uad6d\uc5b4\\n'") +
        line("printf 'emoji: \U0001F600\U0001F680\U0001F44D ok\\n'") +
        line("printf '%079d\u4e2dXY\\n' 0") +  # wide char does not fit at the last column
        line("printf 'fullwidth \uff21\uff22\uff23 and halfwidth \uff71\uff72\\n'")),
    "combining": lambda: record(
        BASH,
        line("printf 'e\\xcc\\x81 a\\xcc\\x88\\xcc\\x84 n\\xcc\\x83 \\xcc\\x81lone\\n'") +
        line("printf 'Zalgo: Z\\xcd\\x91\\xcd\\x8a\\xcd\\x97a\\xcc\\x80l\\xcc\\x81g\\xcc\\x82o\\n'") +
        line("printf 'hangul jamo: \u1100\u1161\u11a8 and vs16: \u2764\ufe0f\\n'")),
    "colors": lambda: record(
        BASH,
        line("for i in 0 1 2 3 4 5 6 7; do printf '\\e[3%dm%d\\e[4%dm#\\e[0m' $i $i $i; done; echo") +
        line("for i in 0 1 2 3 4 5 6 7; do printf '\\e[9%dm%d\\e[10%dm#\\e[0m' $i $i $i; done; echo") +
        line("for i in $(seq 16 8 255); do printf '\\e[38;5;%dm%02x\\e[48;5;%dm \\e[0m' $i $i $i; done; echo") +
        line("for i in $(seq 0 24 255); do printf '\\e[38;2;%d;100;200m*\\e[48;2;10;%d;30m \\e[0m' $i $i; done; echo") +
        line("printf '\\e[1mbold\\e[0m \\e[3mitalic\\e[0m \\e[4munder\\e[0m \\e[21mdouble\\e[0m "
             "\\e[5mblink\\e[0m \\e[7mreverse\\e[0m \\e[9mstrike\\e[0m \\e[2mfaint\\e[0m \\e[8mhidden\\e[0m\\n'") +
        line("printf '\\e[38:2::255:128:0mcolon-rgb\\e[0m \\e[41m\\e[Kbce line\\e[0m\\n'")),
    "tmux": lambda: record(
        ["tmux", "-f", "/dev/null", "-L", "moshx-vt-rec", "new-session", "bash --norc --noprofile -i"],
        [("wait", 1.0)] + line("seq 1 40") + line("printf '\\e]2;inner title\\a'") +
        [("send", b"\x02\"", 0.3), ("wait", 0.5)] + line("echo lower pane") +
        [("send", b"\x02%", 0.3), ("wait", 0.5)] + line("ls /"),
        extra_env={"TMUX": ""}),
    "resize_vim": lambda: record(
        ["vim", "-u", "NONE", "-N", "-c", "set number", "hello.c"],
        [("wait", 1.0), ("resize", 20, 60), ("wait", 0.5), ("send", b"G", 0.3),
         ("resize", 30, 100), ("wait", 0.5), ("send", b"gg", 0.1), ("resize", 10, 40),
         ("wait", 0.5), ("send", b":q!\r", 0.02)],
        cwd=sample_c_file()),
    "less_altscreen": lambda: record(
        ["bash", "--norc", "--noprofile", "-i"],
        line("seq 1 30 | less") + [("send", b"  ", 0.3), ("send", b"q", 0.3)] + line("echo back")),
    "shell_titles": lambda: record(
        BASH,
        line("printf '\\e]0;both icon and title\\a'") +
        line("printf '\\e]1;icon only\\e\\\\\\e]2;title only\\a'") +
        line("printf '\\e]52;c;aGVsbG8gY2xpcGJvYXJk\\a'") +
        line("printf '\\e]8;;https://example.com/\\e\\\\a link\\e]8;;\\e\\\\ after\\n'") +
        line("printf 'ring\\a\\a'") +
        line("printf '\\e[?1000h\\e[?1006h\\e[?1004h\\e[?1h\\e=\\e[4 q\\e[?25l'")),
}


def main():
    names = sys.argv[1:] or sorted(SCENARIOS)
    for name in names:
        data = SCENARIOS[name]()
        with open(os.path.join(HERE, name + ".in"), "wb") as f:
            f.write(data)
        print("%s.in: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
