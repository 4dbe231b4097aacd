//! Prints the IR of Elastic rule files as JSON: `cargo run -p sigil-elastic --example dump -- FILE...`.

fn main() {
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let file = sigil_elastic::parse_rule_toml(&text);
        for d in &file.diagnostics {
            eprintln!("{path}:{}: {}: {}", d.span, d.severity, d.message);
        }
        for rule in &file.rules {
            match serde_json::to_string_pretty(rule) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("{path}: {e}"),
            }
        }
    }
}
