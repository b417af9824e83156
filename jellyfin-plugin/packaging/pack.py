#!/usr/bin/env python3
"""Zip a published plugin build: exactly the artifacts its build.yaml lists, nothing else.

Usage: pack.py BUILD_YAML PUBLISH_DIR OUT_ZIP

Entries carry a fixed timestamp (SOURCE_DATE_EPOCH, else 1980-01-01) and fixed permissions,
so the same DLLs give the same zip and therefore the same MD5 in the manifest.
"""

import os
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifest import ManifestError, read_build_yaml  # noqa: E402


def pack(build_yaml, publish_dir, out_zip):
    meta = read_build_yaml(build_yaml)
    artifacts = meta.get("artifacts")
    if not isinstance(artifacts, list) or not artifacts:
        raise ManifestError(f"{build_yaml}: no artifacts listed")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    tmp = out_zip + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in artifacts:
            if "/" in name or "\\" in name or name.startswith("."):
                raise ManifestError(f"{build_yaml}: artifact {name!r} must be a plain file name")
            path = os.path.join(publish_dir, name)
            if not os.path.isfile(path):
                raise ManifestError(f"{path} is missing: did the build succeed?")
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
    os.replace(tmp, out_zip)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    try:
        pack(*sys.argv[1:])
    except (ManifestError, OSError) as e:
        print(f"pack.py: {e}", file=sys.stderr)
        sys.exit(2)
