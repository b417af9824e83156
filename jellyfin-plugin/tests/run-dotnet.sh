#!/usr/bin/env bash
# Runs the Core tests under `dotnet test` (NUnit 3 from NuGet) on the real .NET runtime: the
# same files run-mono.sh compiles with Mono's mcs. Where the .NET SDK is absent it says so
# plainly and exits 0 (the Mono run stays the Core suite there); CI on a machine with the SDK
# always runs it.
# Closing line: "N passed, N failed" (count-results.py, from the TRX file); exits non-zero
# when a test failed, when nothing ran, when the build failed, or when a test was skipped
# without being allowed in MATINEE_ALLOW_IGNORED. Arguments go to `dotnet test` (e.g. --filter).
set -euo pipefail
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "$0")" && pwd)"
plugin="$(cd "$here/.." && pwd)"
repo="$(cd "$plugin/.." && pwd)"
out="$plugin/build/dotnet-tests"

if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q .; then
    echo "test-plugin: the .NET SDK is not installed: the Core tests did NOT run under .NET here (only under Mono)."
    exit 0
fi

rm -rf "$out"
mkdir -p "$out"
status=0
MATINEE_REPO_ROOT="$repo" dotnet test "$here/Jellyfin.Plugin.Matinee.Core.Tests/Jellyfin.Plugin.Matinee.Core.Tests.csproj" \
    --configuration Release --nologo --verbosity quiet \
    --logger "trx;LogFileName=TestResult.trx" --results-directory "$out" "$@" || status=$?

python3 "$here/count-results.py" trx "$out/TestResult.trx" "$status"
