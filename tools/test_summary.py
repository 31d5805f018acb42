#!/usr/bin/env python3
"""Summarises one `bazel test` run from its Build Event Protocol JSON file.

Usage: tools/test_summary.py BEP_JSON_FILE

Counts test cases from the test.xml files this run produced (GoogleTest writes
one <testcase> per TEST; Bazel writes one for tests without their own XML). A
test target that failed, timed out, crashed or did not build counts as at
least one failed case even when its XML shows none. Prints the failed targets,
then a last line "N passed, N failed" (", N skipped" when some were).
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


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tests = {}      # label -> overall status
    xmls = {}       # label -> path of the last attempt's test.xml
    with open(sys.argv[1]) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            ident = ev.get("id", {})
            if "targetConfigured" in ident and "testSize" in ev.get("configured", {}):
                tests.setdefault(ident["targetConfigured"]["label"], "NO STATUS")
            elif "testResult" in ident:
                label = ident["testResult"]["label"]
                tests.setdefault(label, "NO STATUS")
                for out in ev.get("testResult", {}).get("testActionOutput", []):
                    if out.get("name") == "test.xml":
                        uri = out.get("uri", "")
                        if uri.startswith("file://"):
                            xmls[label] = urllib.request.url2pathname(
                                urllib.parse.urlparse(uri).path)
            elif "testSummary" in ident:
                tests[ident["testSummary"]["label"]] = \
                    ev.get("testSummary", {}).get("overallStatus", "NO STATUS")
    passed = failed = skipped = 0
    bad = []
    for label, status in sorted(tests.items()):
        counts = xml_counts(xmls[label]) if label in xmls else None
        p, fl, s = counts if counts else (0, 0, 0)
        ok = status in ("PASSED", "FLAKY")
        if not ok:
            bad.append((label, status))
            fl = max(fl, 1)
        elif p + fl + s == 0:
            p = 1
        passed, failed, skipped = passed + p, failed + fl, skipped + s
    for label, status in bad:
        print(f"FAILED: {label} ({status})")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
