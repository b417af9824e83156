#!/usr/bin/env python3
"""Write a Jellyfin plugin repository manifest.json for Matinee's zips.

Jellyfin reads a repository as a JSON array of PackageInfo objects
(MediaBrowser.Model/Updates/PackageInfo.cs: guid, name, description, overview, owner,
category, versions, imageUrl), each version a VersionInfo (MediaBrowser.Model/Updates/
VersionInfo.cs: version, changelog, targetAbi, sourceUrl, checksum, timestamp). The server
offers a version when its targetAbi <= the server's version, installs the highest, and
refuses a download whose MD5 differs from checksum (Emby.Server.Implementations/Updates/
InstallationManager.cs), so the checksum here is the MD5 of the exact zip bytes.

Usage:
  manifest.py --out dist/plugin-repo/manifest.json --base-url https://example.org/matinee \
      --package targets/10.10/build.yaml=dist/plugin-repo/matinee_0.1.0.10.zip \
      --package targets/10.11/build.yaml=dist/plugin-repo/matinee_0.1.0.11.zip \
      [--previous old-manifest.json] [--timestamp 2026-01-01T00:00:00Z]

Standard library only. build.yaml is read in the flat subset our files use (top-level
`key: "value"`, `key: >` folded blocks, `key:` followed by `- "item"` lists); anything else is
an error rather than a guess.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import uuid

REQUIRED = ("name", "guid", "version", "targetAbi", "overview", "description", "owner", "category")
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+){0,2}$")


class ManifestError(Exception):
    """Bad input: the message says which file and what."""


def _unquote(value, where):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        if value[0] == '"':
            if "\\" in inner:
                raise ManifestError(f"{where}: escapes in quoted values are not supported")
            if '"' in inner:
                raise ManifestError(f"{where}: stray quote")
        return inner
    if value[:1] in ("\"", "'", "[", "{", "&", "*", "!", "|"):
        raise ManifestError(f"{where}: unsupported YAML value {value!r}")
    return value


def read_build_yaml(path):
    """Parse the subset of YAML our build.yaml files use into a dict."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    data = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        where = f"{path}:{i + 1}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            i += 1
            continue
        if line[0] in " \t-":
            raise ManifestError(f"{where}: unexpected indented or list line")
        m = re.match(r"^([A-Za-z][A-Za-z0-9_]*):(.*)$", line)
        if not m:
            raise ManifestError(f"{where}: expected 'key: value'")
        key, rest = m.group(1), m.group(2).strip()
        if key in data:
            raise ManifestError(f"{where}: duplicate key {key!r}")
        i += 1
        if rest in (">", ">-"):
            block = []
            while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                block.append(lines[i].strip())
                i += 1
            # Folded block: lines joined with spaces, blank lines become newlines.
            paragraphs, current = [], []
            for b in block:
                if b:
                    current.append(b)
                elif current:
                    paragraphs.append(" ".join(current))
                    current = []
            if current:
                paragraphs.append(" ".join(current))
            data[key] = "\n".join(paragraphs)
        elif rest == "":
            items = []
            while i < len(lines) and lines[i].startswith("-"):
                items.append(_unquote(lines[i][1:], f"{path}:{i + 1}"))
                i += 1
            data[key] = items
        else:
            data[key] = _unquote(rest, where)
    return data


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _version_key(v):
    return tuple(int(p) for p in v.split("."))


def build_manifest(packages, base_url, timestamp, previous=None):
    """packages: list of (build_yaml_dict, zip_path). Returns the manifest (a list)."""
    if not packages:
        raise ManifestError("no packages given")
    first = packages[0][0]
    for meta, _ in packages:
        missing = [k for k in REQUIRED if not meta.get(k)]
        if missing:
            raise ManifestError(f"build.yaml misses {', '.join(missing)}")
        for k in ("name", "guid", "owner", "category", "overview"):
            if meta[k] != first[k]:
                raise ManifestError(f"all targets must share {k!r}: {meta[k]!r} != {first[k]!r}")
    try:
        guid = str(uuid.UUID(first["guid"]))
    except ValueError as e:
        raise ManifestError(f"guid {first['guid']!r} is not a GUID") from e
    if not re.match(r"^https?://[^\s?#]+$", base_url):
        raise ManifestError(f"base URL {base_url!r} must be an http(s) URL without query or fragment")

    versions = []
    seen = set()
    for meta, zip_path in packages:
        for k in ("version", "targetAbi"):
            if not VERSION_RE.match(meta[k]):
                raise ManifestError(f"{k} {meta[k]!r} is not a version like 1.2.3.4")
        if meta["version"] in seen:
            raise ManifestError(f"version {meta['version']} given twice")
        seen.add(meta["version"])
        if not os.path.isfile(zip_path):
            raise ManifestError(f"zip {zip_path} does not exist")
        versions.append({
            "version": meta["version"],
            "changelog": meta.get("changelog", ""),
            "targetAbi": meta["targetAbi"],
            "sourceUrl": base_url.rstrip("/") + "/" + os.path.basename(zip_path),
            "checksum": md5_of(zip_path),
            "timestamp": timestamp,
        })

    if previous:
        for pkg in previous:
            if str(pkg.get("guid", "")).lower() != guid:
                continue
            for v in pkg.get("versions", []):
                if v.get("version") not in seen:
                    versions.append(v)
                    seen.add(v.get("version"))

    versions.sort(key=lambda v: _version_key(v["version"]), reverse=True)
    package = {
        "guid": guid,
        "name": first["name"],
        "description": first["description"],
        "overview": first["overview"],
        "owner": first["owner"],
        "category": first["category"],
        "versions": versions,
    }
    if first.get("imageUrl"):
        package["imageUrl"] = first["imageUrl"]
    return [package]


def main(argv=None):
    p = argparse.ArgumentParser(description="Write a Jellyfin plugin repository manifest.json")
    p.add_argument("--out", required=True)
    p.add_argument("--base-url", required=True, help="where the zips will be downloadable from")
    p.add_argument("--package", action="append", required=True, metavar="BUILD_YAML=ZIP")
    p.add_argument("--previous", help="an earlier manifest.json whose other versions are kept")
    p.add_argument("--timestamp", help="ISO 8601 UTC; default: now (or SOURCE_DATE_EPOCH)")
    args = p.parse_args(argv)
    try:
        packages = []
        for spec in args.package:
            if "=" not in spec:
                raise ManifestError(f"--package {spec!r}: expected BUILD_YAML=ZIP")
            meta_path, zip_path = spec.split("=", 1)
            packages.append((read_build_yaml(meta_path), zip_path))
        if args.timestamp:
            timestamp = args.timestamp
        else:
            epoch = os.environ.get("SOURCE_DATE_EPOCH")
            when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
                    else datetime.datetime.now(datetime.timezone.utc))
            timestamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        previous = None
        if args.previous and os.path.exists(args.previous):
            with open(args.previous, encoding="utf-8") as f:
                previous = json.load(f)
        manifest = build_manifest(packages, args.base_url, timestamp, previous)
    except (ManifestError, OSError, ValueError) as e:
        print(f"manifest.py: {e}", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"manifest.py: wrote {args.out} ({len(manifest[0]['versions'])} versions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
