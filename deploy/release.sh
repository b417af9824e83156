#!/usr/bin/env bash
# Build the release binary exactly as deploy/Dockerfile does, then put it in a release folder
# with its version and target in the name, plus SHA256SUMS.
#
#   deploy/release.sh [--dist DIR]      (default DIR: dist/ at the repository root)
#
# The cargo command below must stay identical to the one in deploy/Dockerfile: deploy/test/run.sh
# compares them, so the image and the release binary cannot drift apart silently.
set -euo pipefail
cd "$(dirname "$0")/.."

dist="dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist="${2:?--dist needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "release.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

CARGO="${CARGO:-cargo}"

# --locked: a release is built from Cargo.lock as committed, never from a fresh resolution.
"$CARGO" build --release --locked -p matinee-server

# Version from the package metadata (the workspace version), not from a guess.
version="$("$CARGO" metadata --no-deps --format-version 1 --locked \
    | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "matinee-server"))')"
target="$(rustc -vV | sed -n 's/^host: //p')"
target_dir="$("$CARGO" metadata --no-deps --format-version 1 --locked \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

name="matinee-server-${version}-${target}"
mkdir -p "$dist"
# Remove older builds of the same name first so SHA256SUMS never lists a stale file.
rm -f "$dist/$name" "$dist/SHA256SUMS"
install -m 0755 "$target_dir/release/matinee-server" "$dist/$name"

# SHA256SUMS lists every binary in the folder, in the format `sha256sum -c` reads.
(cd "$dist" && sha256sum matinee-server-* > SHA256SUMS)

echo "release: $dist/$name"
echo "release: $dist/SHA256SUMS"
(cd "$dist" && sha256sum -c --quiet SHA256SUMS && echo "release: checksums verified")
