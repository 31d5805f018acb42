#!/usr/bin/env python3
"""Checks that every document reference in the tree resolves inside it.

    check_references.py ROOT

Scans the project's sources, build files, test data headers and docs under
ROOT and reports, one per line as FILE:LINE: message, every reference that does
not resolve. Exit status 0 when there is none, 1 otherwise, 2 on bad usage.

What counts as a reference, and when it resolves:
  * `docs/NAME.md` (any file under docs/, e.g. `docs/moshx.1`): the file exists.
  * `docs/NAME.md §S`, and a run of further sections after it
    (`docs/protocol.md §3.6, §8.1`, `§7.1–§7.2`, `§A and §E`): NAME.md has a
    heading whose first word is S, e.g. `## 6. The transport` (§6) or
    `### A.1 Constants` (§A.1).
  * A bare `§S` inside docs/NAME.md: a section of NAME.md itself.
  * A bare `§S` anywhere else is an error: outside docs/ a citation must name
    its document. Runs after `RFC NNNN` cite a published standard and are
    accepted as they are.
  * Citations of documents that are not in the repository are errors: the
    word "spec" followed by a section sign, and the names of the documents the
    project was first written from (the mosh protocol and display notes, the
    shared notes directory).

Citations may wrap across comment lines: comment leaders (`//`, `#`, `*`) at
the start of a line are ignored, and line breaks count as spaces.
"""

import os
import re
import sys

SECTION = "\u00a7"

# Directories never scanned: build output, fetched dependencies, version
# control, and test data that is captured terminal output, not prose.
SKIP_DIRS = {
    ".git",
    ".bazel",
    ".deps",
    "third_party/rules_cc",
    "third_party/rules_java",
    "third_party/remote_coverage_tools",
    "testdata/vt",
    "testdata/fuzz",
}
TEXT_SUFFIXES = (
    ".h", ".cc", ".c", ".py", ".sh", ".bzl", ".bazel", ".md", ".txt", ".1",
    ".bash", ".service", ".rc", ".cfg", ".yml", ".yaml", ".toml",
)
TEXT_NAMES = {"BUILD", "WORKSPACE", "README", ".bazelrc"}
# This checker and its test hold examples and deliberately broken citations.
SKIP_FILES = {"docs/check_references.py", "docs/references_test.sh"}

SEC = r"[A-Z0-9]+(?:\.[0-9]+)*"
# What may stand between two sections of one run.
SEP = r"[\s`(]*(?:,|;|and|or|to|\u2013|-|/)?[\s`(]*"
RUN = r"((?:" + SEP + SECTION + SEC + r")*)"
DOC_RUN = re.compile(r"docs/([\w.-]+)" + RUN)
RFC_RUN = re.compile(r"RFC\s*\d+" + RUN)
ONE_SECTION = re.compile(SECTION + "(" + SEC + ")")
# Documents outside the repository. Built from pieces so that this file does
# not match itself.
OUTSIDE = [
    (re.compile(r"\bspec\s*" + SECTION, re.IGNORECASE),
     "cites a document outside the repository ('spec " + SECTION + "'); "
     "cite the docs/ file and section that state the fact"),
    (re.compile(r"mosh-" + r"(?:protocol|prediction-display)\b"),
     "names a document outside the repository; cite docs/ instead"),
    (re.compile(r"(?:/work|\.\.)/" + r"shared/"),
     "names a path outside the repository; cite docs/ instead"),
]
HEADING = re.compile(r"^#{1,6}\s+(\S+)")
COMMENT_LEADER = re.compile(r"^\s*(?://+|#+|\*+(?!\*))?\s?")


def headings(path):
    """The section ids of a Markdown file: the first word of each heading."""
    ids = set()
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            m = HEADING.match(line)
            if m:
                ids.add(m.group(1).rstrip(".:"))
    return ids


def joined(text, strip_comments):
    """The text with line breaks as spaces, and a map from offset to line."""
    parts = []
    line_of = []
    for number, line in enumerate(text.split("\n"), start=1):
        if strip_comments:
            line = COMMENT_LEADER.sub("", line, count=1)
        parts.append(line)
        line_of.extend([number] * (len(line) + 1))
    return " ".join(parts), line_of


def wanted(rel):
    name = os.path.basename(rel)
    return name in TEXT_NAMES or name.endswith(TEXT_SUFFIXES)


def files_under(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = sorted(
            d for d in dirnames
            if os.path.join(rel_dir, d) not in SKIP_DIRS
            and not d.startswith("bazel-"))
        for name in sorted(filenames):
            rel = os.path.join(rel_dir, name)
            if wanted(rel) and rel not in SKIP_FILES:
                yield rel


class Checker:
    def __init__(self, root):
        self.root = root
        self.sections = {}  # docs file name -> set of section ids
        self.errors = []
        self.citations = 0

    def doc_sections(self, name):
        if name not in self.sections:
            path = os.path.join(self.root, "docs", name)
            if not os.path.isfile(path):
                self.sections[name] = None
            elif name.endswith(".md"):
                self.sections[name] = headings(path)
            else:
                self.sections[name] = set()
        return self.sections[name]

    def error(self, rel, line, message):
        self.errors.append("%s:%d: %s" % (rel, line, message))

    def check_file(self, rel):
        try:
            with open(os.path.join(self.root, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            return  # not text: nothing to cite
        is_doc = rel.startswith("docs" + os.sep) and rel.endswith(".md")
        own = os.path.basename(rel) if is_doc else None
        flat, line_of = joined(text, strip_comments=not rel.endswith(".md"))

        for pattern, message in OUTSIDE:
            for m in pattern.finditer(flat):
                self.error(rel, line_of[m.start()], message)

        consumed = set()  # offsets of section signs that belong to a run
        for m in RFC_RUN.finditer(flat):
            for s in ONE_SECTION.finditer(flat, m.start(1), m.end(1)):
                consumed.add(s.start())
        for m in DOC_RUN.finditer(flat):
            name = m.group(1).rstrip(".,;:)")
            # "docs/protocol.md." ends a sentence, "docs/BUILD.bazel" is a path.
            if "." not in name:
                continue
            line = line_of[m.start()]
            self.citations += 1
            sections = self.doc_sections(name)
            if sections is None:
                self.error(rel, line, "docs/%s does not exist" % name)
                continue
            for s in ONE_SECTION.finditer(flat, m.start(2), m.end(2)):
                consumed.add(s.start())
                if s.group(1) not in sections:
                    self.error(rel, line_of[s.start()],
                               "docs/%s has no section %s%s" % (name, SECTION, s.group(1)))
        for s in ONE_SECTION.finditer(flat):
            if s.start() in consumed:
                continue
            line = line_of[s.start()]
            if own is None:
                self.error(rel, line,
                           "bare %s%s: name the document (docs/FILE.md %s%s)"
                           % (SECTION, s.group(1), SECTION, s.group(1)))
                continue
            self.citations += 1
            if s.group(1) not in self.doc_sections(own):
                self.error(rel, line, "docs/%s has no section %s%s" % (own, SECTION, s.group(1)))

    def run(self):
        for rel in files_under(self.root):
            self.check_file(rel)


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        sys.stderr.write("usage: check_references.py ROOT\n")
        return 2
    checker = Checker(argv[1])
    checker.run()
    for e in checker.errors:
        print(e)
    print("%d citations checked, %d errors" % (checker.citations, len(checker.errors)))
    return 1 if checker.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
