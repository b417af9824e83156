#!/usr/bin/env bash
# Runs a test command and fails it when any test was skipped, ignored or left "todo": a test
# that did not run proves nothing, so it must not count as passing (`make test` on a machine
# without Chromium or Mono would otherwise report success for tests that never ran).
#
#   scripts/no-skips.sh cargo <command…>    cargo test output (`… ignored`, `N ignored;`)
#   scripts/no-skips.sh node  <command…>    node --test's TAP output (`# SKIP`, `# TODO`)
#
# MATINEE_ALLOW_SKIPS=1 allows them explicitly (a machine known to lack a component): the
# run then passes, and every skipped test is still printed with its reason.
set -uo pipefail

kind=${1:?usage: no-skips.sh cargo|node <command…>}
shift
case "$kind" in cargo | node) ;; *) echo "no-skips: unknown kind '$kind' (cargo or node)" >&2; exit 2 ;; esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The command's own output goes through unchanged; its status is kept.
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if [ "$kind" = cargo ]; then
    # Per test binary: "test result: ok. 3 passed; 0 failed; 1 ignored; …"; per test:
    # "test path::name ... ignored" or "… ignored, <reason>" (#[ignore = "reason"]).
    count=$(sed -n 's/^test result: .* \([0-9][0-9]*\) ignored;.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
    names=$(sed -n 's/^test \(.*\) \.\.\. ignored\(, \(.*\)\)\{0,1\}$/  \1: \3/p' "$log")
else
    # The run's final summary ("# skipped N", "# todo N", not indented) and each skipped or
    # todo test ("ok 3 - name # SKIP reason", at any depth).
    count=$(sed -n 's/^# \(skipped\|todo\) \([0-9][0-9]*\)$/\2/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
    names=$(sed -n 's/^ *\(not \)\{0,1\}ok [0-9][0-9]* - \(.*\) # \(SKIP\|TODO\)\(.*\)$/  \2: \3\4/p' "$log")
fi

if [ "$count" -gt 0 ]; then
    echo
    echo "no-skips: $count test(s) did not run:"
    [ -n "$names" ] && echo "$names"
    if [ "${MATINEE_ALLOW_SKIPS:-0}" = 1 ]; then
        echo "no-skips: allowed by MATINEE_ALLOW_SKIPS=1 (reasons above); not counted as passed"
    else
        echo "no-skips: a skipped test is not a passing one; install what it needs, or allow it"
        echo "no-skips: explicitly with MATINEE_ALLOW_SKIPS=1"
        [ "$status" = 0 ] && status=1
    fi
fi
exit "$status"
