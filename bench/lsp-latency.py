#!/usr/bin/env python3
"""Diagnostics latency of `sigil lsp` after an edit of a 200-line rule.

Starts the server, opens a 200-line Sigma rule, then sends N edits (one value changed each
time, the whole document as `didChange`, as the server asks) and times each from the moment the
change is written until the `publishDiagnostics` of that version is read. For scale, the same
run times N `documentSymbol` round trips (the transport and a trivial request).

    bench/lsp-latency.py [--sigil target/release/sigil] [--edits 500] [--all-lints]

`--all-lints` starts the server with every check (`initializationOptions: {"lints": "all"}`,
as `sigil check --all-lints`).
"""

import argparse
import json
import os
import statistics
import subprocess
import time


def rule_text(tag: int) -> str:
    lines = [
        "title: Suspicious Command Lines",
        "id: 929a690e-bef0-4204-a928-ef5e620d6fcc",
        "status: test",
        "description: A long list of command lines, to time the diagnostics of a large rule.",
        "author: sigil bench",
        "date: 2026-12-07",
        "tags:",
        "    - attack.execution",
        "    - attack.t1047",
        "logsource:",
        "    category: process_creation",
        "    product: windows",
        "detection:",
        "    selection_img:",
        "        Image|endswith:",
        "            - '\\wmic.exe'",
        "            - '\\powershell.exe'",
        "    selection_cli:",
        "        CommandLine|contains:",
    ]
    n = 0
    while len(lines) < 192:
        lines.append(f"            - 'value-{n}-{tag if n == 7 else 0}'")
        n += 1
    lines += [
        "    filter_main:",
        "        ParentImage|endswith: '\\explorer.exe'",
        "    condition: all of selection_* and not 1 of filter_*",
        "falsepositives:",
        "    - Administrators",
        "level: high",
    ]
    while len(lines) < 200:
        lines.append(f"# note {len(lines)}")
    return "\n".join(lines) + "\n"


class Client:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == self.next_id:
                return m

    def wait_diagnostics(self, version):
        while True:
            m = self.read()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version:
                return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigil", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "sigil"))
    ap.add_argument("--edits", type=int, default=500)
    ap.add_argument("--all-lints", action="store_true")
    args = ap.parse_args()
    c = Client([args.sigil, "lsp"])
    options = {"lints": "all"} if args.all_lints else {}
    c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                             "initializationOptions": options})
    c.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    uri = "file:///bench/rule.yml"
    text = rule_text(0)
    assert len(text.splitlines()) == 200
    c.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
    first = c.wait_diagnostics(1)
    print(f"diagnostics of the rule: {[d['code'] for d in first['params']['diagnostics']]}")
    edits = []
    for v in range(2, args.edits + 2):
        change = {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": v},
            "contentChanges": [{"text": rule_text(v)}]}}
        t0 = time.perf_counter()
        c.send(change)
        c.wait_diagnostics(v)
        edits.append((time.perf_counter() - t0) * 1000)
    trips = []
    for _ in range(args.edits):
        t0 = time.perf_counter()
        c.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        trips.append((time.perf_counter() - t0) * 1000)
    c.request("shutdown", None)
    c.send({"jsonrpc": "2.0", "method": "exit"})
    c.p.wait(timeout=10)

    def summary(name, xs):
        xs = sorted(xs)
        p95 = xs[int(len(xs) * 0.95) - 1]
        print(f"{name:<42} median {statistics.median(xs):6.2f} ms   p95 {p95:6.2f} ms   max {xs[-1]:6.2f} ms   (n={len(xs)})")

    summary("edit -> publishDiagnostics (200 lines)", edits)
    summary("documentSymbol round trip", trips)


if __name__ == "__main__":
    main()
