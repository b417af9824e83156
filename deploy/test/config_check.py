#!/usr/bin/env python3
"""Checks that the configuration Matinee really has and what deploy/ and docs/ say about it agree.

The truth is the server's own `--print-config` output (TOML). Each subcommand compares one
artefact with it and prints, on failure, exactly which keys are missing on which side.

  config_check.py example  PRINTED.toml  deploy/matinee.toml.example
  config_check.py docs     PRINTED.toml  docs/configuration.md
  config_check.py env      PRINTED.toml  FILE...     (MATINEE_* names used in deploy files)
  config_check.py keys     FILE.toml                 (print the flattened keys, for debugging)

Exit status 0 when they agree, 1 with a report when they do not, 2 on unusable input.
Needs Python 3.11+ (tomllib) and nothing else.
"""

import re
import sys
import tomllib

# Keys the server prints as commented-out lines because they have no value (TOML has no null):
#   # jellyfin.url = (unset)      or      # url = (unset)   under [jellyfin]
_UNSET_RE = re.compile(r"^#\s*([A-Za-z0-9_.]+)\s*=\s*\(unset\)\s*$")
_TABLE_RE = re.compile(r"^\[([A-Za-z0-9_.]+)\]\s*$")


def flatten(table, prefix=""):
    """{'server': {'listen': 'x'}} → {'server.listen': 'x'}; arrays and scalars are leaves."""
    out = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unset_keys(text):
    """Keys written as `# key = (unset)` comments, with the table they appear under."""
    keys, table = set(), ""
    for line in text.splitlines():
        line = line.strip()
        m = _TABLE_RE.match(line)
        if m:
            table = m.group(1) + "."
            continue
        m = _UNSET_RE.match(line)
        if m:
            key = m.group(1)
            keys.add(key if "." in key else table + key)
    return keys


def load_config(path):
    """Flattened values plus the set of every key, unset ones included."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        values = flatten(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"config_check: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    return values, set(values) | unset_keys(text)


def env_name(key):
    """server.allowed_origins → MATINEE_SERVER__ALLOWED_ORIGINS (the config crate's separator)."""
    return "MATINEE_" + "__".join(part.upper() for part in key.split("."))


def report(label_a, only_a, label_b, only_b):
    ok = True
    if only_a:
        ok = False
        print(f"  in {label_a} but missing from {label_b}:")
        for k in sorted(only_a):
            print(f"    - {k}")
    if only_b:
        ok = False
        print(f"  in {label_b} but missing from {label_a}:")
        for k in sorted(only_b):
            print(f"    - {k}")
    return ok


# In the example, `#key = value` (no space after `#`) is a key that is unset by default; prose
# comments start with "# ".
_OFF_RE = re.compile(r"^#([a-z0-9_]+) = (.+)$")


def example_keys(path):
    """Every key of the example (set or `#key = value`), and keys lacking a comment above."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        keys = set(flatten(tomllib.loads(text)))
    except tomllib.TOMLDecodeError as e:
        print(f"config_check: {path} is not valid TOML: {e}", file=sys.stderr)
        sys.exit(2)
    lines, table, uncommented = text.splitlines(), "", []
    for i, line in enumerate(lines):
        m = _TABLE_RE.match(line)
        if m:
            table = m.group(1) + "."
            continue
        off = _OFF_RE.match(line)
        if off:
            try:
                tomllib.loads(f"v = {off.group(2)}")
            except tomllib.TOMLDecodeError:
                print(f"config_check: {path}:{i + 1}: commented-out value is not TOML: {line}", file=sys.stderr)
                sys.exit(2)
            keys.add(table + off.group(1))
        m = off or re.match(r"^([a-z0-9_]+)\s*=", line)
        if m and not (i > 0 and lines[i - 1].startswith("# ")):
            uncommented.append(table + m.group(1))
    return keys, uncommented


def cmd_example(printed, example):
    _, real = load_config(printed)
    documented, uncommented = example_keys(example)
    ok = report("--print-config", real - documented, example, documented - real)
    if uncommented:
        ok = False
        print(f"  keys in {example} without a comment line right above them:")
        for k in uncommented:
            print(f"    - {k}")
    return ok


# A documented row: | `section.key` | default | `MATINEE_SECTION__KEY` | meaning |
_ROW_RE = re.compile(r"^\|\s*`([a-z0-9_]+(?:\.[a-z0-9_]+)+)`\s*\|([^|]*)\|\s*`(MATINEE_[A-Z0-9_]+)`\s*\|")


def parse_default(cell):
    """The default column holds a TOML literal in backticks, or "(unset)"."""
    cell = cell.strip()
    if cell in ("(unset)", "*(unset)*", "_(unset)_"):
        return None, True
    m = re.fullmatch(r"`(.*)`", cell)
    if not m:
        return cell, False
    try:
        return tomllib.loads(f"v = {m.group(1)}")["v"], True
    except tomllib.TOMLDecodeError:
        return cell, False


def same_value(a, b):
    """Equal and of the same type: `true` must not pass for `1`, nor `20` for `20.0`."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def cmd_docs(printed, doc):
    values, real = load_config(printed)
    with open(doc, encoding="utf-8") as f:
        rows = [_ROW_RE.match(line) for line in f.read().splitlines()]
    rows = [r for r in rows if r]
    documented = {r.group(1): r for r in rows}
    ok = report("--print-config", real - set(documented), doc, set(documented) - real)
    for key in sorted(real & set(documented)):
        row = documented[key]
        if row.group(3) != env_name(key):
            ok = False
            print(f"  {key}: documented env name {row.group(3)}, real one is {env_name(key)}")
        default, parsed = parse_default(row.group(2))
        if not parsed:
            ok = False
            print(f"  {key}: default column {row.group(2).strip()!r} is neither `toml literal` nor (unset)")
        elif values.get(key) == "***":
            ok = False
            print(f"  {key}: --print-config masks it as a secret (\"***\"), so its default cannot be checked;"
                  " a default is never a secret — the key name probably trips the server's secret filter")
        elif not same_value(default, values.get(key)):
            ok = False
            print(f"  {key}: documented default {default!r}, --print-config says {values.get(key)!r}")
    if len(rows) != len(documented):
        ok = False
        print(f"  {doc} documents some key twice")
    return ok


def cmd_env(printed, files):
    _, real = load_config(printed)
    known = {env_name(k) for k in real} | {"MATINEE_CONFIG"}
    ok = True
    for path in files:
        with open(path, encoding="utf-8") as f:
            used = set(re.findall(r"\bMATINEE_[A-Z0-9_]+\b", f.read()))
        for name in sorted(used - known):
            # Only MATINEE_<SECTION>__<KEY>-shaped names claim to be configuration keys; build and
            # test variables (MATINEE_SERVER_BIN) and prose patterns (MATINEE_<SECTION>__<KEY>) do not.
            if name == "MATINEE_SECTION__KEY" or "__" not in name or name.endswith("_"):
                continue
            ok = False
            print(f"  {path}: {name} is not a configuration key of the server")
    return ok


def main(argv):
    if len(argv) >= 3 and argv[0] == "example" and len(argv) == 3:
        return cmd_example(argv[1], argv[2])
    if len(argv) == 3 and argv[0] == "docs":
        return cmd_docs(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "env":
        return cmd_env(argv[1], argv[2:])
    if len(argv) == 2 and argv[0] == "keys":
        for k in sorted(load_config(argv[1])[1]):
            print(k)
        return True
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
