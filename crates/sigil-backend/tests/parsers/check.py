"""Reads JSON lines {"lang": ..., "q": ...} on stdin and writes one JSON line per input:
null when the engine's own parser accepts the query, else the parser's message.

Languages: eql (Elastic's `eql` package with its Elasticsearch syntax), lucene (`luqum`),
sql:<dialect> (`sqlglot` with that dialect: sqlite, spark, clickhouse, duckdb, ...).
"""

import json
import sys


def eql_checker():
    import eql

    def check(q):
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions:
            eql.parse_query(q)

    return check


def lucene_checker():
    from luqum.parser import parser

    def check(q):
        parser.parse(q)

    return check


def sql_checker(dialect):
    import sqlglot

    def check(q):
        sqlglot.parse_one(q, read=dialect)

    return check


def checker(lang):
    if lang == "eql":
        return eql_checker()
    if lang == "lucene":
        return lucene_checker()
    if lang.startswith("sql:"):
        return sql_checker(lang[4:])
    raise SystemExit(f"unknown language {lang!r}")


def main():
    checkers = {}
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        lang = item["lang"]
        if lang not in checkers:
            checkers[lang] = checker(lang)
        try:
            checkers[lang](item["q"])
            out.write("null\n")
        except Exception as e:  # every parser error is a finding, whatever its class
            message = " ".join(str(e).split())[:300] or type(e).__name__
            out.write(json.dumps(f"{type(e).__name__}: {message}") + "\n")
    out.flush()


if __name__ == "__main__":
    main()
