// Reads JSON lines {"lang": ..., "q": ...} on stdin and writes one JSON line per input: null
// when the engine's own parser accepts the query, else its messages.
//
// Languages: kusto (Microsoft's Kusto.Language, npm @kusto/language-service-next: syntax
// diagnostics of KustoCode.Parse), logql (Grafana's Lezer grammar, npm @grafana/lezer-logql:
// error nodes of the parse tree). NODE_PATH names the node_modules folder holding them.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";

const modules = process.env.NODE_PATH || "";
const require = createRequire(path.join(modules, "x.js"));
const checkers = {};

function kusto() {
  require(path.join(modules, "@kusto/language-service-next/bridge.min.js"));
  require(path.join(modules, "@kusto/language-service-next/Kusto.Language.Bridge.min.js"));
  return (q) => {
    const d = globalThis.Kusto.Language.KustoCode.Parse(q).GetDiagnostics();
    const errors = [];
    for (let i = 0; i < d.Count; i++) errors.push(d.getItem(i).Message);
    return errors.length ? errors.join("; ") : null;
  };
}

function logql() {
  const { parser } = require(path.join(modules, "@grafana/lezer-logql"));
  return (q) => {
    const errors = [];
    parser.parse(q).iterate({
      enter: (n) => {
        if (n.type.isError) errors.push(`error at ${n.from}: ${JSON.stringify(q.slice(Math.max(0, n.from - 20), n.from + 20))}`);
      },
    });
    return errors.length ? errors.slice(0, 3).join("; ") : null;
  };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of lines) {
  if (!line.trim()) continue;
  const { lang, q } = JSON.parse(line);
  if (!checkers[lang]) {
    if (lang === "kusto") checkers[lang] = kusto();
    else if (lang === "logql") checkers[lang] = logql();
    else throw new Error(`unknown language ${lang}`);
  }
  let result;
  try {
    result = checkers[lang](q);
  } catch (e) {
    result = `${e}`;
  }
  out.push(JSON.stringify(result));
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
