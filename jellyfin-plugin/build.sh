#!/usr/bin/env bash
# Builds the Matinee Jellyfin plugin for every Jellyfin line under targets/: 10.10 (net8.0),
# 10.11 (net9.0) and 12.0 (net10.0).
#   bash jellyfin-plugin/build.sh          -> dist/plugin/matinee_<version>.zip (one per line)
#   bash jellyfin-plugin/build.sh --repo   -> dist/plugin-repo/{manifest.json,*.zip}
#     needs MATINEE_PLUGIN_REPO_URL: the URL dist/plugin-repo/ will be served from (the zips'
#     sourceUrl). Admins then add <that URL>/manifest.json under Dashboard -> Plugins -> Repositories.
# MATINEE_NUGET_SOURCES: extra package sources (';'-separated folders or feeds) for Jellyfin's
# packages, where the default NuGet source does not serve them.
# Without the .NET SDK it prints one line and exits 0 in CI (CI set), 1 otherwise.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
# Keep the CLI's first-run banner and telemetry notice out of the output parsed below.
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mode="plugin"
case "${1:-}" in
    "") ;;
    --repo) mode="plugin-repo" ;;
    *) echo "usage: $0 [--repo]" >&2; exit 2 ;;
esac

if ! command -v dotnet >/dev/null 2>&1; then
    echo "make $mode: the .NET SDK (dotnet) is not installed; install the .NET 10 SDK (it builds the net8.0, net9.0 and net10.0 targets) to build the plugin zips."
    if [ -n "${CI:-}" ]; then exit 0; fi
    exit 1
fi

# `|| true`: with only a .NET runtime installed, `dotnet --version` fails, and under set -e that
# would end the script without a word.
sdk_version="$(dotnet --version 2>/dev/null | tail -n1 || true)"
sdk_major="${sdk_version%%.*}"
if ! [[ "$sdk_major" =~ ^[0-9]+$ ]] || [ "$sdk_major" -lt 10 ]; then
    echo "make $mode: the .NET SDK is ${sdk_version:-missing (only a runtime?)}; version 10 or later is needed for the net10.0 (Jellyfin 12.0) target." >&2
    exit 1
fi

if [ "$mode" = "plugin-repo" ] && [ -z "${MATINEE_PLUGIN_REPO_URL:-}" ]; then
    echo "make plugin-repo: set MATINEE_PLUGIN_REPO_URL to the http(s) URL that will serve dist/plugin-repo/ (it becomes each zip's sourceUrl)." >&2
    exit 1
fi

out="$repo/dist/$mode"
stage="$here/build/publish"
mkdir -p "$out"
packages=()
sources=()
if [ -n "${MATINEE_NUGET_SOURCES:-}" ]; then
    # MSBuild splits a property on ';' unless escaped.
    sources=("-p:RestoreAdditionalProjectSources=${MATINEE_NUGET_SOURCES//;/%3B}")
fi
for meta in "$here"/targets/*/build.yaml; do
    target="$(basename "$(dirname "$meta")")"
    read -r version framework < <(python3 - "$meta" <<'PY'
import sys
sys.path.insert(0, sys.argv[1].rsplit("/targets/", 1)[0] + "/packaging")
from manifest import read_build_yaml
m = read_build_yaml(sys.argv[1])
print(m["version"], m["framework"])
PY
)
    echo "make $mode: building $version for Jellyfin $target ($framework)"
    rm -rf "$stage/$target"
    if ! dotnet publish "$here/Jellyfin.Plugin.Matinee/Jellyfin.Plugin.Matinee.csproj" \
        --configuration Release -p:JellyfinTarget="$target" "${sources[@]}" \
        --output "$stage/$target" --nologo; then
        echo "make $mode: the build for Jellyfin $target failed (above). If NuGet could not find Jellyfin.Controller or Jellyfin.Model, name a source that has them in MATINEE_NUGET_SOURCES." >&2
        exit 1
    fi
    built_fw="$(dotnet msbuild -nologo "$here/Jellyfin.Plugin.Matinee/Jellyfin.Plugin.Matinee.csproj" -p:JellyfinTarget="$target" -getProperty:TargetFramework | tr -d '[:space:]')"
    if [ "$built_fw" != "$framework" ]; then
        echo "make $mode: $meta says $framework but the project builds $built_fw for JellyfinTarget=$target" >&2
        exit 1
    fi
    zip="$out/matinee_$version.zip"
    python3 "$here/packaging/pack.py" "$meta" "$stage/$target" "$zip"
    echo "make $mode: wrote $zip"
    packages+=(--package "$meta=$zip")
done

if [ "$mode" = "plugin-repo" ]; then
    python3 "$here/packaging/manifest.py" --out "$out/manifest.json" \
        --base-url "$MATINEE_PLUGIN_REPO_URL" --previous "$out/manifest.json" "${packages[@]}"
fi
