"""Runs a `sigil convert --format job` job on a real engine over a folder `sigil export` wrote.

    run_job.py ENGINE LAKE JOB OUT

ENGINE is duckdb, clickhouse (chdb: ClickHouse in-process) or spark (the job is a PySpark
program, run in local mode on 2 cores). Writes the detections to OUT as JSON lines
{"rule_id", "source", "record_id"} and prints `ENGINE: N detections in S s` (the job's own
time, without the interpreter's start) on standard output.
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time


def statements(script):
    """The script's statements, without comment-only ones."""
    out = []
    for s in script.split(";\n"):
        lines = [line for line in s.splitlines() if line.strip() and not line.startswith("--")]
        if lines:
            out.append("\n".join(lines))
    return out


def duckdb_job(lake, script):
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE VIEW events AS SELECT * FROM read_parquet('{}', union_by_name = true)".format(
            os.path.join(lake, "**", "*.parquet")
        )
    )
    stmts = statements(script)
    for s in stmts[:-1]:
        con.execute(s)
    cursor = con.execute(stmts[-1])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def clickhouse_job(lake, script):
    from chdb import session

    view = re.search(r"^--   (CREATE VIEW events AS .*)$", script, re.M)
    if view is None:
        raise SystemExit("the ClickHouse job's header shows no CREATE VIEW events")
    sess = session.Session()
    sess.query(view.group(1).replace("'lake/**/*.parquet'", "'{}'".format(os.path.join(lake, "**", "*.parquet"))))
    stmts = statements(script)
    for s in stmts[:-1]:
        sess.query(s)
    res = sess.query(stmts[-1], "JSONEachRow")
    return [json.loads(line) for line in res.bytes().decode().splitlines() if line]


def spark_job(lake, program):
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "detect.py")
        with open(path, "w") as f:
            f.write(program)
        out = os.path.join(tmp, "out")
        env = dict(os.environ)
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        # local[2] with a small heap: the machine is shared.
        env["PYSPARK_SUBMIT_ARGS"] = "--master local[2] --driver-memory 2g pyspark-shell"
        subprocess.run([sys.executable, path, "--input", lake, "--output", out], check=True, env=env)
        files = sorted(glob.glob(os.path.join(out, "*.parquet")))
        rows = []
        for f in files:
            rows.extend(pq.read_table(f).to_pylist())
        return rows


def main():
    engine, lake, job, out = sys.argv[1:5]
    with open(job) as f:
        script = f.read()
    start = time.monotonic()
    rows = {"duckdb": duckdb_job, "clickhouse": clickhouse_job, "spark": spark_job}[engine](lake, script)
    took = time.monotonic() - start
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps({"rule_id": r["rule_id"], "source": r["source"], "record_id": r["record_id"]}) + "\n")
    print("{}: {} detections in {:.1f} s".format(engine, len(rows), took))


if __name__ == "__main__":
    main()
