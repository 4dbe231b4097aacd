#!/usr/bin/env python3
"""Compares two `index.json` files of `sigil catalog build` for information.

    catalog_index_expand.py OLD_INDEX NEW_INDEX

Each file may be `sigil-catalog/1` (every rule holds its indicators, ATT&CK entries,
data needed and related rules itself), `sigil-catalog/2` (those are positions in
top-level tables, a related rule is a position in `rules`) or `sigil-catalog/3` (a rule
entry holds its metadata and ATT&CK / data-needed positions; the rest is in the file
its `details` names, relative to the directory of index.json, read here). All are
expanded to the first shape and compared as JSON values, key by key (and key order);
exits 1 and names the first difference when they do not hold the same information.
"""
import json
import os
import sys

TABLES = ("indicators", "reasons", "attack", "data_needed")

# The fields of a format-1/2 rule in their order, with what format 3 leaves out when
# null or empty.
RULE_FIELDS = (
    ("key", None), ("id", None), ("title", None), ("language", None), ("path", None),
    ("page", None), ("description", None), ("status", None), ("level", None),
    ("author", None), ("date", None), ("modified", None), ("references", None),
    ("falsepositives", None), ("tags", []), ("logsource", None),
    ("related_links", []), ("query", None), ("index", []), ("not_evaluable", []),
    ("analysis", None), ("fired_by", None),
)
DETAILS = ("description", "references", "falsepositives", "query", "fired_by")


def expand3(doc, root):
    attack = doc.pop("attack")
    data_needed = doc.pop("data_needed")
    rules = []
    for entry in doc["rules"]:
        with open(os.path.join(root, entry["details"]), encoding="utf-8") as f:
            details = json.load(f)
        if details.get("format") != "sigil-catalog/3" or details["key"] != entry["key"]:
            sys.exit(f"{entry['details']}: not the details of {entry['key']}")
        a = details["analysis"]
        analysis = {
            "stages": a["stages"],
            "exclusions": a["exclusions"],
            "indicators": a["indicators"],
            "related": a["related"],
            "attack": [attack[i] for i in entry.get("attack", [])],
            "data_needed": [data_needed[i] for i in entry.get("data_needed", [])],
        }
        rule = {}
        for name, default in RULE_FIELDS:
            if name == "analysis":
                rule[name] = analysis
            elif name in DETAILS:
                rule[name] = details[name]
            else:
                rule[name] = entry.get(name, default)
        rules.append(rule)
    doc["rules"] = rules
    doc["format"] = "sigil-catalog/1"
    return doc


def expand(doc, root):
    fmt = doc.get("format")
    if fmt == "sigil-catalog/1":
        return doc
    if fmt == "sigil-catalog/3":
        return expand3(doc, root)
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
            docs.append(expand(json.load(f), os.path.dirname(os.path.abspath(path))))
    d = first_difference(*docs)
    if d:
        print(f"index.json differs: {d}")
        sys.exit(1)
    print("index.json: the same information")


if __name__ == "__main__":
    main()
