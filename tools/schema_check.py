#!/usr/bin/python3
"""Validates waljson output against the JSON Schemas in schema/ (draft 2020-12).

As a module: `check(format_version, messages, chunks=False)` returns the list of
problems (empty when every message validates); format 1 with write-in-chunks
joins the chunks into documents first.

As a command:
  schema_check.py FORMAT [--chunks] [FILE...]   one message per line (stdin by default)
  schema_check.py --capture DIR                 the CSV files the pg_regress suite
                                                captured (options JSON, message)
Prints "schema: N messages valid" or the problems, and exits 1 on a problem.
"""
import csv
import glob
import json
import os
import re
import sys

from jsonschema import Draft202012Validator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_validators = {}


def validator(version):
    if version not in _validators:
        with open(os.path.join(ROOT, "schema", f"format-{version}.json")) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        _validators[version] = Draft202012Validator(schema)
    return _validators[version]


def documents(messages, chunks):
    """The JSON documents of a stream: each message, or format 1's chunks joined."""
    if not chunks:
        return [m for m in messages if m.strip()]
    text = "".join(messages)
    decoder = json.JSONDecoder()
    docs, i = [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        obj, end = decoder.raw_decode(text, i)
        docs.append(text[i:end])
        i = end
    return docs


def check(version, messages, chunks=False):
    """Problems found in `messages` (a list of str), empty when all validate."""
    v = validator(int(version))
    problems = []
    try:
        # Format 1: the messages joined are a sequence of documents, whether
        # each message is a document or a chunk of one.
        docs = documents(messages, int(version) == 1)
    except ValueError as e:
        return [f"format {version}: not JSON: {e}"]
    for d in docs:
        try:
            obj = json.loads(d)
        except ValueError as e:
            problems.append(f"format {version}: not JSON ({e}): {d[:300]}")
            continue
        for err in v.iter_errors(obj):
            problems.append(f"format {version}: {err.message} at {list(err.absolute_path)}: {d[:300]}")
            break
    return problems


def wal2json_int(text):
    """format-version as wal2json reads it (strtol with base 0, else a float rounded half to even)."""
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    if re.fullmatch(r"[+-]?0[0-7]+", text):
        return int(text, 8)
    return round(float(text))


def options_of(opts):
    """(format version, write-in-chunks) of a plugin option list [name, value, ...]
    (format-version given without a value is 2, as in wal2json)."""
    named = {opts[i].replace("_", "-"): opts[i + 1] for i in range(0, len(opts) - 1, 2)}
    truthy = ("1", "t", "true", "on", "y", "yes")
    given = named.get("format-version", "1")
    version = 2 if given is None else wal2json_int(given)
    return version, str(named.get("write-in-chunks", "0")).lower() in truthy


def check_capture(directory):
    csv.field_size_limit(sys.maxsize)
    total, problems = 0, []
    for path in sorted(glob.glob(os.path.join(directory, "*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if not rows:
            continue
        version, chunks = options_of(json.loads(rows[0][0]))
        messages = [r[1] for r in rows]
        total += len(documents(messages, version == 1))
        problems += [f"{os.path.basename(path)}: {p}" for p in check(version, messages, chunks)]
    return total, problems


def main(argv):
    if argv[:1] == ["--capture"]:
        total, problems = check_capture(argv[1])
    else:
        version, rest = int(argv[0]), argv[1:]
        chunks = "--chunks" in rest
        files = [a for a in rest if a != "--chunks"]
        messages = []
        for name in files or ["-"]:
            f = sys.stdin if name == "-" else open(name, encoding="utf-8")
            messages += [line.rstrip("\n") for line in f]
        problems = check(version, messages, chunks)
        total = len(documents(messages, version == 1))
    for p in problems[:20]:
        print("INVALID", p)
    if problems:
        print(f"schema: {len(problems)} invalid of {total} messages")
        return 1
    print(f"schema: {total} messages valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
