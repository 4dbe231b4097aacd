"""Reads a folder `sigil export` wrote with pyarrow and holds it to `sigil hunt`.

Usage: check_parquet.py DIR HUNT.jsonl EVENTS

Checks that every file of DIR has one schema, that the table has EVENTS rows (the events
`sigil hunt` read), that (source, record_id) names one row each where the record id is
known, and that for every event of a detection in HUNT.jsonl the row with its source and
record id holds exactly the event's fields with the event's values. Prints one JSON
object with what was checked; exits 1 with the first differences otherwise.
"""

import json
import math
import pathlib
import sys

import pyarrow.parquet as pq


def text(value):
    """A JSON value as the export writes it in a text column (as sigil compares values)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return value


def norm(name):
    """A field name as sigil compares them: ASCII case and spaces ignored."""
    return "".join(c.lower() if c.isascii() else c for c in name if c != " ")


def same(expected, got, column_type):
    """Whether an event's JSON value and the row's value agree, given the column's type."""
    if expected is None:
        return got is None
    if column_type.startswith("list"):
        items = expected if isinstance(expected, list) else [expected]
        return got == [None if i is None else text(i) for i in items]
    if column_type == "string":
        return got == text(expected)
    if column_type == "double":
        return got is not None and math.isclose(float(expected), got)
    return got == expected


def main():
    folder, hunt, events = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    files = sorted(folder.glob("*.parquet"))
    schemas = {str(pq.read_schema(f)) for f in files}
    problems = []
    if len(schemas) != 1:
        problems.append(f"{len(schemas)} schemas in {len(files)} files")
    table = pq.read_table(folder)
    if table.num_rows != events:
        problems.append(f"{table.num_rows} rows, hunt read {events} events")
    names = table.column_names
    if names[:2] != ["source", "record_id"]:
        problems.append(f"first columns {names[:2]}")
    types = {f.name: str(f.type) for f in table.schema}
    column_of = {norm(n): n for n in names}
    compression = {
        pq.ParquetFile(f).metadata.row_group(0).column(0).compression for f in files
    }
    if compression != {"ZSTD"}:
        problems.append(f"compression {compression}")
    rows = table.to_pylist()
    by_key = {}
    for row in rows:
        if row["record_id"] is None:
            continue
        key = (row["source"], row["record_id"])
        if key in by_key:
            problems.append(f"two rows for {key}")
        by_key[key] = row
    checked = set()
    values = 0
    for line in open(hunt, encoding="utf-8"):
        d = json.loads(line)
        key = (d["source"], d["record_id"])
        if not isinstance(d["event"], dict) or "correlation" in d["event"] or key in checked:
            continue
        checked.add(key)
        row = by_key.get(key)
        if row is None:
            problems.append(f"no row for {key}")
            continue
        event = d["event"]
        wanted = {}
        for name, value in event.items():
            if norm(name) in ("source", "record_id"):
                name = "event_" + name
            column = column_of.get(norm(name))
            if column is None:
                problems.append(f"{key}: no column {name}")
                continue
            wanted[column] = value
        for column, value in wanted.items():
            values += 1
            if not same(value, row[column], types[column]):
                problems.append(f"{key}: {column} = {row[column]!r}, event has {value!r}")
        extra = [
            c
            for c in names[2:]
            if row[c] is not None and c not in wanted
        ]
        if extra:
            problems.append(f"{key}: values the event lacks: {extra[:5]}")
    if not checked:
        problems.append("no event of a detection to compare")
    report = {
        "files": len(files),
        "rows": table.num_rows,
        "columns": len(names),
        "events_compared": len(checked),
        "values_compared": values,
        "types": {n: types[n] for n in ("record_id", "EventID", "Channel") if n in types},
    }
    print(json.dumps(report))
    if problems:
        print("\n".join(problems[:40]), file=sys.stderr)
        sys.exit(1)


main()
