#!/usr/bin/env python3
"""Compares two `index.json` files of `sigil catalog build` for information.

    catalog_index_expand.py OLD_INDEX NEW_INDEX

Each file may be `sigil-catalog/1` (every rule holds its indicators, ATT&CK entries,
data needed and related rules itself) or `sigil-catalog/2` (those are positions in
top-level tables, a related rule is a position in `rules`). Both are expanded to the
first shape and compared as JSON values, key by key; exits 1 and names the first
difference when they do not hold the same information.
"""
import json
import sys

TABLES = ("indicators", "reasons", "attack", "data_needed")


def expand(doc):
    fmt = doc.get("format")
    if fmt == "sigil-catalog/1":
        return doc
    if fmt != "sigil-catalog/2":
        sys.exit(f"unknown format {fmt!r}")
    tables = {name: doc.pop(name) for name in TABLES}
    keys = [r["key"] for r in doc["rules"]]
    for rule in doc["rules"]:
        a = rule["analysis"]
        a["indicators"] = [tables["indicators"][i] for i in a["indicators"]]
        a["attack"] = [tables["attack"][i] for i in a["attack"]]
        a["data_needed"] = [tables["data_needed"][i] for i in a["data_needed"]]
        a["related"] = [
            {
                "key": keys[x["rule"]],
                "score": x["score"],
                "reasons": [tables["reasons"][i] for i in x["reasons"]],
            }
            for x in a["related"]
        ]
    doc["format"] = "sigil-catalog/1"
    return doc


def first_difference(a, b, where="$"):
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            d = first_difference(a[k], b[k], f"{where}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{where}: {a!r} vs {b!r}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    docs = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            docs.append(expand(json.load(f)))
    d = first_difference(*docs)
    if d:
        print(f"index.json differs: {d}")
        sys.exit(1)
    print("index.json: the same information")


if __name__ == "__main__":
    main()
