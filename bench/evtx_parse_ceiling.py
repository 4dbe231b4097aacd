#!/usr/bin/env python3
"""Parse-only ceiling for reading EVTX: the `evtx` package (Python bindings of the Rust evtx
crate) rendering every record of every file to JSON, nothing else, in one process.

Usage: evtx_parse_ceiling.py [ROOT] [--copies N]
ROOT defaults to ../shared/corpus/evtx; --copies N reads every file N times (the hunt
benchmark uses the corpus copied 8 times). Prints events, wall and CPU seconds, events/s.
"""
import sys
import time
from pathlib import Path

import evtx


def main(argv):
    root = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "evtx"
    copies = 1
    args = iter(argv)
    for arg in args:
        if arg == "--copies":
            copies = int(next(args))
        else:
            root = Path(arg)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".evtx")
    for f in files:  # warm the page cache, as the Rust benchmark does
        f.read_bytes()
    events = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(copies):
        for f in files:
            for _record in evtx.PyEvtxParser(str(f)).records_json():
                events += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{'python evtx records_json (parse-only ceiling)':<44} {events:>9} events {wall:>8.3f} s "
          f"{events / wall:>10.0f} events/s")
    print(f"{'':<44} (cpu {cpu:.3f} s, {events / cpu:.0f} events per cpu-second)")


if __name__ == "__main__":
    main(sys.argv[1:])
