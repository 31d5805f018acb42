#!/usr/bin/env python3
"""Canonical form of a `tmux capture-pane -p -e` snapshot (mosh interop tests).

Two clients that leave the same cells on the screen can still make tmux
capture different escape sequences: one erases a line with EL, the other
writes spaces, and tmux then emits an SGR reset at a different place. This
reads the capture, tracks the SGR state cell by cell, and prints every line
as runs of text tagged with their effective renditions, dropping trailing
blanks that show nothing (default background, no inverse). The renditions
are exact: colours keep the form they were drawn with (aN for the sixteen
SGR 30-37/90-97 name, pN for 38;5;N, rgb(...) for 38;2), which tmux keeps
apart, and the attribute set. Lines that are not part of the screen (the
"cursor=..." and "joined:" lines interop_snapshot adds) pass through
unchanged and reset the state.

Usage: screen_cells.py < capture > canonical
"""
import re
import sys

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
ATTRS = {1: "bold", 2: "faint", 3: "italic", 4: "underline", 5: "blink", 7: "inverse",
         8: "invisible", 9: "strike"}
UNSET = {22: ("bold", "faint"), 23: ("italic",), 24: ("underline",), 25: ("blink",),
         27: ("inverse",), 28: ("invisible",), 29: ("strike",)}


def colour(params, i):
    """Parses 38/48 extended colour at params[i]; returns (value, next index)."""
    if i + 1 < len(params) and params[i + 1] == 5 and i + 2 < len(params):
        return "p%d" % params[i + 2], i + 3
    if i + 1 < len(params) and params[i + 1] == 2 and i + 4 < len(params):
        return "rgb(%d,%d,%d)" % tuple(params[i + 2:i + 5]), i + 5
    return None, len(params)


def apply_sgr(state, text):
    params = [int(p) if p else 0 for p in re.split("[;:]", text)] if text else [0]
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            state.update(fg=None, bg=None, attrs=frozenset())
        elif p in ATTRS:
            state["attrs"] = state["attrs"] | {ATTRS[p]}
        elif p in UNSET:
            state["attrs"] = state["attrs"] - set(UNSET[p])
        elif 30 <= p <= 37:
            state["fg"] = "a%d" % (p - 30)
        elif 90 <= p <= 97:
            state["fg"] = "a%d" % (p - 90 + 8)
        elif 40 <= p <= 47:
            state["bg"] = "a%d" % (p - 40)
        elif 100 <= p <= 107:
            state["bg"] = "a%d" % (p - 100 + 8)
        elif p == 39:
            state["fg"] = None
        elif p == 49:
            state["bg"] = None
        elif p in (38, 48):
            value, i = colour(params, i)
            state["fg" if p == 38 else "bg"] = value
            continue
        i += 1


def tag(state):
    parts = []
    if state["fg"]:
        parts.append("fg=" + state["fg"])
    if state["bg"]:
        parts.append("bg=" + state["bg"])
    parts.extend(sorted(state["attrs"]))
    return "{" + ",".join(parts) + "}"


def canonical_line(line, state):
    cells = []  # (char, tag, shows_nothing_when_blank)
    pos = 0
    for m in SGR.finditer(line):
        for ch in line[pos:m.start()]:
            cells.append((ch, tag(state), state["bg"] is None and "inverse" not in state["attrs"]))
        apply_sgr(state, m.group(1))
        pos = m.end()
    for ch in line[pos:]:
        cells.append((ch, tag(state), state["bg"] is None and "inverse" not in state["attrs"]))
    while cells and cells[-1][0] == " " and cells[-1][2]:
        cells.pop()
    out, current = [], None
    for ch, t, _ in cells:
        if t != current:
            out.append(t)
            current = t
        out.append(ch)
    return "".join(out)


def main():
    state = {"fg": None, "bg": None, "attrs": frozenset()}
    for raw in sys.stdin.read().split("\n"):
        if raw.startswith("cursor=") or raw == "joined:":
            print(raw)
            state = {"fg": None, "bg": None, "attrs": frozenset()}
            continue
        print(canonical_line(raw, state))


if __name__ == "__main__":
    main()
