#!/usr/bin/env python3
"""Summarises `bazel test` runs from their Build Event Protocol JSON files.

Usage: tools/test_summary.py BEP_JSON_FILE [BEP_JSON_FILE...]

One file per `bazel test` invocation (tools/test runs one for the host and one
with --config=aarch64); a target tested in two invocations counts in each.
Counts test cases from the test.xml files each run produced (GoogleTest writes
one <testcase> per TEST; Bazel writes one for tests without their own XML). A
test target that failed, timed out, crashed or did not build counts as at
least one failed case even when its XML shows none. Prints the failed targets
(with their configuration, e.g. "[aarch64-fastbuild]", when there are several
files), a line of counts per configuration, then a last line
"N passed, N failed" (", N skipped" when some were).
Exit status: 0 when nothing failed and at least one test ran, else 1.
"""
import json
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def xml_counts(path):
    """(passed, failed, skipped) test cases in one JUnit XML file."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None \
                or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def read_bep(path):
    """(tests, xmls, leg) of one BEP file: label -> overall status, label ->
    path of the last attempt's test.xml, and the configuration mnemonic of
    its tests ("" when none was reported)."""
    tests = {}
    xmls = {}
    mnemonics = {}  # configuration id -> mnemonic
    test_configs = set()
    with open(path) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            ident = ev.get("id", {})
            if "configuration" in ident:
                mnemonics[ident["configuration"].get("id")] = \
                    ev.get("configuration", {}).get("mnemonic", "")
            elif "targetConfigured" in ident and "testSize" in ev.get("configured", {}):
                tests.setdefault(ident["targetConfigured"]["label"], "NO STATUS")
            elif "testResult" in ident:
                label = ident["testResult"]["label"]
                test_configs.add(ident["testResult"].get("configuration", {}).get("id"))
                tests.setdefault(label, "NO STATUS")
                for out in ev.get("testResult", {}).get("testActionOutput", []):
                    if out.get("name") == "test.xml":
                        uri = out.get("uri", "")
                        if uri.startswith("file://"):
                            xmls[label] = urllib.request.url2pathname(
                                urllib.parse.urlparse(uri).path)
            elif "testSummary" in ident:
                test_configs.add(ident["testSummary"].get("configuration", {}).get("id"))
                tests[ident["testSummary"]["label"]] = \
                    ev.get("testSummary", {}).get("overallStatus", "NO STATUS")
    leg = ", ".join(sorted({mnemonics.get(c, "") for c in test_configs} - {""}))
    if not leg:  # no test ran (nothing built?): name it after its configurations
        leg = ", ".join(sorted(set(mnemonics.values()) - {"", "host"}))
    return tests, xmls, leg


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    passed = failed = skipped = 0
    bad = []
    legs = []
    for path in sys.argv[1:]:
        tests, xmls, leg = read_bep(path)
        leg_counts = [0, 0, 0]
        for label, status in sorted(tests.items()):
            counts = xml_counts(xmls[label]) if label in xmls else None
            p, fl, s = counts if counts else (0, 0, 0)
            ok = status in ("PASSED", "FLAKY")
            if not ok:
                bad.append((label, leg, status))
                fl = max(fl, 1)
            elif p + fl + s == 0:
                p = 1
            leg_counts = [leg_counts[0] + p, leg_counts[1] + fl, leg_counts[2] + s]
        passed, failed, skipped = \
            passed + leg_counts[0], failed + leg_counts[1], skipped + leg_counts[2]
        legs.append((leg or path, leg_counts))
    several = len(legs) > 1
    for label, leg, status in bad:
        where = f" [{leg}]" if several and leg else ""
        print(f"FAILED: {label}{where} ({status})")
    if several:
        print("by configuration: " + "; ".join(
            f"{leg} {p} passed {fl} failed" + (f" {s} skipped" if s else "")
            for leg, (p, fl, s) in legs))
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
