#!/usr/bin/env python3
"""Counts the results of one run of the Core tests, for run-mono.sh (NUnit 2.6's XML) and
run-dotnet.sh (a TRX file from `dotnet test --logger trx`), prints the closing line
"N passed, N failed", and exits non-zero when a test failed, when nothing ran, when the runner
itself failed (its exit status is the third argument), or when a test did not run unallowed.

A test that did not run (ignored, skipped, inconclusive) is not a pass: each is printed on
stderr, and it counts as "not allowed" unless MATINEE_ALLOW_IGNORED names it with a reason:
lines (or ';'-separated entries) "<test name or prefix>: <why it may be skipped here>", e.g.
  MATINEE_ALLOW_IGNORED='Jellyfin.Plugin.Matinee.Core.Tests.Web.BrowserScriptOrderTests: no Chromium on this builder'
so a missing tool can never turn into a silently green run.

usage: count-results.py nunit2|trx <result file> <runner exit status>
"""
import os
import sys
import xml.etree.ElementTree as ET


def allowed_entries():
    allowed = []
    for entry in os.environ.get("MATINEE_ALLOW_IGNORED", "").replace(";", "\n").splitlines():
        entry = entry.strip()
        if not entry:
            continue
        name, sep, reason = entry.partition(":")
        if not sep or not name.strip() or not reason.strip():
            print(f"test-plugin: MATINEE_ALLOW_IGNORED entry {entry!r} needs the form '<test>: <reason>'", file=sys.stderr)
            sys.exit(2)
        allowed.append((name.strip(), reason.strip()))
    return allowed


def nunit2(path):
    """(name, outcome, message) per test case; outcome: passed, failed or other."""
    for case in ET.parse(path).iter("test-case"):
        result = case.get("result", "")
        if case.get("executed") == "True" and result == "Success":
            outcome = "passed"
        elif result in ("Failure", "Error", "Cancelled", "NotRunnable"):
            outcome = "failed"
        else:
            outcome = "other"
        yield case.get("name", "?"), outcome, result, (case.findtext("reason/message") or "").strip()


def trx(path):
    ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
    root = ET.parse(path).getroot()
    # Full names (namespace.class.method) come from the test definitions.
    full = {}
    for test in root.iter(ns + "UnitTest"):
        method = test.find(ns + "TestMethod")
        if method is not None:
            full[test.get("id")] = method.get("className", "") + "." + test.get("name", "?")
    for result in root.iter(ns + "UnitTestResult"):
        outcome = result.get("outcome", "")
        name = full.get(result.get("testId"), result.get("testName", "?"))
        kind = "passed" if outcome == "Passed" else "failed" if outcome in ("Failed", "Error", "Timeout", "Aborted") else "other"
        message = (result.findtext(f"{ns}Output/{ns}ErrorInfo/{ns}Message") or "").strip()
        yield name, kind, outcome, message


def main():
    kind, path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        print(f"test-plugin: the runner wrote no result file (exit {status})", file=sys.stderr)
        print("0 passed, 0 failed")
        sys.exit(1)
    allowed = allowed_entries()
    cases = {"nunit2": nunit2, "trx": trx}[kind](path)
    passed = failed = ignored = unallowed = 0
    for name, outcome, result, message in cases:
        if outcome == "passed":
            passed += 1
        elif outcome == "failed":
            failed += 1
        else:
            ignored += 1
            message = message or "no reason given"
            match = next(((n, r) for n, r in allowed if name == n or name.startswith(n + ".") or name.startswith(n + "(")), None)
            if match:
                print(f"test-plugin: ignored, allowed by MATINEE_ALLOW_IGNORED ({match[1]}): {name} [{result}: {message}]", file=sys.stderr)
            else:
                unallowed += 1
                print(f"test-plugin: ignored and NOT allowed: {name} [{result}: {message}]", file=sys.stderr)
    if ignored:
        print(f"test-plugin: {ignored} test(s) ignored or skipped (not counted as passed), {unallowed} of them not allowed")
    print(f"{passed} passed, {failed} failed")
    if status != 0 or failed or not passed:
        sys.exit(1)
    if unallowed:
        print(f"test-plugin: failing because {unallowed} test(s) did not run; install what they need, "
              "or allow each with a reason in MATINEE_ALLOW_IGNORED", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
