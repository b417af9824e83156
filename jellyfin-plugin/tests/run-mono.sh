#!/usr/bin/env bash
# Builds Jellyfin.Plugin.Matinee.Core and its NUnit tests with Mono's C# compiler and runs them
# with nunit-console, so the plugin's logic is tested on machines without the .NET SDK.
# Needs (Debian): apt-get install mono-mcs nunit-console libnunit-cil-dev
# Closing line: "N passed, N failed" (from the NUnit result XML); exits non-zero when a test
# failed, when nothing ran, when the build failed, or when a test was ignored without being
# allowed in MATINEE_ALLOW_IGNORED (count-results.py).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
plugin="$(cd "$here/.." && pwd)"
repo="$(cd "$plugin/.." && pwd)"
out="$plugin/build/mono-tests"
# The packaging tests run the Python scripts: keep their bytecode out of the source tree.
export PYTHONDONTWRITEBYTECODE=1

for tool in mcs mono nunit-console python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-plugin: '$tool' is missing (Debian: apt-get install mono-mcs nunit-console libnunit-cil-dev python3)" >&2
        exit 1
    fi
done

# nunit.framework.dll as the Debian package installs it: ask pkg-config (libnunit-cil-dev ships
# nunit.pc), then dpkg, then the conventional CLI library folder.
find_nunit_framework() {
    local dir
    if command -v pkg-config >/dev/null 2>&1 && dir="$(pkg-config --variable=pkglibdir nunit 2>/dev/null)" && [ -n "$dir" ]; then
        for f in "$dir"/nunit.framework*/nunit.framework.dll; do
            [ -f "$f" ] && { echo "$f"; return 0; }
        done
    fi
    if command -v dpkg-query >/dev/null 2>&1; then
        local pkg
        for pkg in $(dpkg-query -W -f='${Package}\n' 'libnunit-framework*-cil' 2>/dev/null); do
            f="$(dpkg -L "$pkg" 2>/dev/null | grep '/nunit\.framework\.dll$' | head -n1 || true)"
            [ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return 0; }
        done
    fi
    for f in /usr/lib/cli/nunit.framework*/nunit.framework.dll; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

if ! nunit_dll="$(find_nunit_framework)"; then
    echo "test-plugin: nunit.framework.dll not found (Debian: apt-get install libnunit-cil-dev)" >&2
    exit 1
fi

rm -rf "$out"
mkdir -p "$out"

# mcs accepts C# up to 7.2; Core's csproj says 7.3 for the SDK build, and the code keeps to
# the common subset. CS1591 (missing XML doc) is left to the SDK build's analyzers.
echo "test-plugin: compiling Core with $(mcs --version)"
mcs -nologo -target:library -langversion:7.2 -optimize+ -warnaserror+ -nowarn:1591 \
    -out:"$out/Jellyfin.Plugin.Matinee.Core.dll" \
    -recurse:"$plugin/Jellyfin.Plugin.Matinee.Core/*.cs"

echo "test-plugin: compiling tests against $nunit_dll"
mcs -nologo -target:library -langversion:7.2 -warnaserror+ \
    -r:"$out/Jellyfin.Plugin.Matinee.Core.dll" -r:"$nunit_dll" -r:System.Core.dll -r:System.Xml.dll \
    -out:"$out/Jellyfin.Plugin.Matinee.Core.Tests.dll" \
    -recurse:"$here/Jellyfin.Plugin.Matinee.Core.Tests/*.cs"
cp "$nunit_dll" "$out/"

# A stand-in for the File Transformation plugin, under the real one's assembly name, for the
# tests of Matinee's registration with it (see the file's header for what it mirrors).
echo "test-plugin: compiling the File Transformation stand-in"
mcs -nologo -target:library -langversion:7.2 -warnaserror+ -nowarn:1591 \
    -out:"$out/Jellyfin.Plugin.FileTransformation.dll" \
    -recurse:"$here/stand-ins/FileTransformation/*.cs"

status=0
(cd "$out" && MATINEE_REPO_ROOT="$repo" nunit-console -nologo -noshadow \
    -xml="$out/TestResult.xml" "$out/Jellyfin.Plugin.Matinee.Core.Tests.dll") || status=$?

# Counts and judges the run (count-results.py): an ignored or skipped test fails the suite unless
# MATINEE_ALLOW_IGNORED names it with a reason.
python3 "$here/count-results.py" nunit2 "$out/TestResult.xml" "$status"
