//! How much of the lab's results any offline simulation can reach: an upper bound on the
//! recall of `sigil atomics` against `../shared/oracle/atomic-lab-hits.jsonl`.
//!
//! A lab pair (test, rule) is *reachable* when, for some branch of the rule's condition,
//! every value the branch requires is present in what the test itself provides or in the
//! environment every run has. The classification is generous (when in doubt, reachable):
//!
//! - **What the test provides**: its command, cleanup command, input argument defaults,
//!   dependency commands (check and get), the text files of its technique folder in the
//!   corpus, and any base64 in them decoded as `-EncodedCommand` decodes it.
//! - **The environment**: the values of the test's own simulated events (program images,
//!   parents, paths, registry keys sigil derives from the command), every string of the
//!   event models and `programs.yml` (system programs, their modules, services), fixed
//!   Windows folders.
//! - **A predicate is met** when one of its values (all of them under `|all`) is: each
//!   literal piece of a string (between wildcards, case-insensitive, under `windash` any
//!   dash) occurs somewhere in that text; a program path `...\name.exe` also when `name`
//!   occurs as a word; a regular expression when it matches one of the texts (an
//!   expression that does not compile counts as met); encoded values (`base64offset`,
//!   `wide`) by their plain text (decoded base64 is part of the text); numbers, booleans,
//!   nulls, networks, field references, `exists`, and fields the host or the program file
//!   determines (event ids, channels, hashes, PE metadata, integrity, users, access masks,
//!   ports) always.
//! - **A branch** ignores its negations (a filter can always be avoided); `and` needs every
//!   part, `or` one part. Correlations and rules without a detection are reachable.
//!
//! Unreachable pairs are attributed to the first cause that applies, in this order: the test
//! is not in the corpus; it fetches and runs text at run time (a URL and a download verb);
//! it calls AtomicTestHarnesses (`*-ATH*`) whose module code the corpus lacks; it runs files
//! from `PathToAtomicsFolder` the corpus lacks; otherwise the rule as the corpus holds it
//! looks for text the test does not have (split by whether the rule was modified after the
//! lab's date: drift, or not).
//!
//! A stricter figure drops the global environment (only the test's text and its own
//! simulated events). The report is printed per part (the lab harness's split); the test
//! asserts that every pair the simulation finds is classified reachable (the classifier is
//! at least as generous as the simulation) and that the bound is above the recall.
//!
//! ```text
//! cargo test --release -p sigil-catalog --test atomic_bound -- --nocapture
//! ```

mod lab;

use lab::{catalog, held_out, lab_tests, shared};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use sigil_catalog::CatalogRule;
use sigil_core::{Expr, Op, Piece, Predicate, RuleBody, Value};

/// Fields whose values the host, the log or the program file determine, not the command.
const HOST_FIELDS: &[&str] = &[
    "eventid",
    "channel",
    "provider_name",
    "provider",
    "eventtype",
    "hashes",
    "hash",
    "md5",
    "sha1",
    "sha256",
    "imphash",
    "signed",
    "signature",
    "signaturestatus",
    "company",
    "product",
    "description",
    "fileversion",
    "integritylevel",
    "user",
    "parentuser",
    "sourceuser",
    "targetuser",
    "logonid",
    "grantedaccess",
    "calltrace",
    "destinationport",
    "sourceport",
    "destinationip",
    "sourceip",
    "destinationisipv6",
    "initiated",
    "protocol",
    "querystatus",
    "queryresults",
    "subjectusersid",
    "subjectusername",
    "subjectdomainname",
    "logontype",
    "accessmask",
    "accesslist",
    "objecttype",
    "eventtype",
    "servicetype",
    "starttype",
    "accountname",
    "processid",
    "parentprocessid",
    "hostversion",
    "engineversion",
];

/// Fields that hold only the script's own text: the environment cannot provide them.
const SCRIPT_FIELDS: &[&str] = &["scriptblocktext", "payload", "scriptblock"];

/// Folders every Windows run has.
const FIXED_PATHS: &[&str] = &[
    r"C:\Windows\System32\",
    r"C:\Windows\SysWOW64\",
    r"C:\Windows\Temp\",
    r"C:\Windows\",
    r"C:\Program Files\",
    r"C:\Program Files (x86)\",
    r"C:\ProgramData\",
    r"C:\Users\atomic\AppData\Local\Temp\",
    r"C:\Users\atomic\AppData\Roaming\",
    r"C:\Users\Public\",
    r"C:\AtomicRedTeam\",
];

/// A body of text to look values up in.
#[derive(Default)]
struct Text {
    /// The pieces, as written (for regular expressions).
    parts: Vec<String>,
    /// All pieces, lower case, joined by new lines (for substrings).
    lower: String,
}

impl Text {
    fn add(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.lower.push_str(&s.to_lowercase());
        self.lower.push('\n');
        self.parts.push(s.to_string());
    }

    fn has(&self, lit: &str) -> bool {
        self.lower.contains(&lit.to_lowercase())
    }

    /// `name` as a word (not inside a longer name).
    fn has_word(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        let bytes = self.lower.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        self.lower.match_indices(&name).any(|(i, _)| {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + name.len()).copied();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
    }
}

/// What a value lookup sees: the test's own text, then optionally the global environment.
struct Haystack<'a> {
    own: &'a Text,
    env: Option<&'a Text>,
}

impl Haystack<'_> {
    fn texts(&self) -> impl Iterator<Item = &Text> {
        std::iter::once(self.own).chain(self.env)
    }

    fn has_lit(&self, lit: &str) -> bool {
        self.texts().any(|t| t.has(lit))
    }

    fn pattern(&self, p: &sigil_core::Pattern) -> bool {
        let lits: Vec<&str> = p
            .pieces()
            .iter()
            .filter_map(|pc| match pc {
                Piece::Lit(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if lits.iter().all(|l| self.has_lit(l)) {
            return true;
        }
        // A program path: its name as a word of the text (`reg` for `\reg.exe`).
        if let [lit] = lits.as_slice() {
            let lower = lit.to_lowercase();
            let name = lower.rsplit(['\\', '/']).next().unwrap_or(&lower);
            if lower.contains('\\')
                && let Some(stem) = name.strip_suffix(".exe")
                && !stem.is_empty()
            {
                return self.texts().any(|t| t.has_word(stem));
            }
        }
        false
    }

    fn predicate(&self, p: &Predicate) -> bool {
        if p.field
            .as_deref()
            .is_some_and(|f| HOST_FIELDS.contains(&f.to_ascii_lowercase().as_str()))
        {
            return true;
        }
        if matches!(p.op, Op::Exists | Op::Cidr | Op::NotEquals) || p.op.is_numeric() {
            return true;
        }
        let own_only = Haystack {
            own: self.own,
            env: None,
        };
        let hay = if p
            .field
            .as_deref()
            .is_some_and(|f| SCRIPT_FIELDS.contains(&f.to_ascii_lowercase().as_str()))
        {
            &own_only
        } else {
            self
        };
        let one = |v: &Value| match v {
            Value::Str(pat) => {
                if p.flags.windash {
                    sigil_core::encode::windash_variants(pat)
                        .iter()
                        .any(|v| hay.pattern(v))
                } else {
                    hay.pattern(pat)
                }
            }
            Value::Regex(src) => {
                let src = format!("(?i){src}");
                match regex::Regex::new(&src) {
                    Ok(re) => hay.texts().any(|t| {
                        t.parts
                            .iter()
                            .any(|s| s.lines().any(|l| re.is_match(l)) || re.is_match(s))
                    }),
                    Err(_) => true,
                }
            }
            _ => true,
        };
        if p.values.is_empty() {
            return true;
        }
        if p.flags.all {
            p.values.iter().all(one)
        } else {
            p.values.iter().any(one)
        }
    }

    /// Whether some branch of `e` has every positive predicate met; negations are
    /// always avoidable.
    fn expr(&self, e: &Expr) -> bool {
        match e {
            Expr::And(v) => v.iter().all(|e| self.expr(e)),
            Expr::Or(v) => v.iter().any(|e| self.expr(e)),
            Expr::Not(_) => true,
            Expr::Pred(p) => self.predicate(p),
        }
    }

    /// The predicates of `e` (outside negations) that are not met, for examples.
    fn unmet(&self, e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| self.unmet(e, out)),
            Expr::Not(_) => {}
            Expr::Pred(p) => {
                if !self.predicate(p) {
                    let values: Vec<String> = p.values.iter().take(3).map(Value::to_text).collect();
                    out.push(format!(
                        "{}|{} {}{}",
                        p.field.as_deref().unwrap_or("(keyword)"),
                        p.op.kind(),
                        values.join(" / "),
                        if p.values.len() > 3 { " / ..." } else { "" }
                    ));
                }
            }
        }
    }

    fn rule(&self, rule: &CatalogRule) -> bool {
        match &rule.ir.body {
            RuleBody::Detection(d) => self.expr(&d.to_expr()),
            _ => true,
        }
    }
}

fn scalar(node: Option<&Yaml>) -> Option<String> {
    match node? {
        Yaml::Value(Scalar::String(s)) => Some(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Some(i.to_string()),
        Yaml::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

/// Every string value of a YAML document (keys left out).
fn yaml_strings(node: &Yaml, out: &mut Text) {
    match node {
        Yaml::Sequence(v) => v.iter().for_each(|n| yaml_strings(n, out)),
        Yaml::Mapping(m) => m.values().for_each(|n| yaml_strings(n, out)),
        other => {
            if let Some(s) = scalar(Some(other)) {
                // Templates' slots are not text.
                for part in s.split(['{', '}']) {
                    out.add(part);
                }
            }
        }
    }
}

/// The global environment: the event models, `programs.yml`, fixed folders.
fn environment() -> Text {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/telemetry");
    let mut env = Text::default();
    let mut files = vec![dir.join("programs.yml")];
    for entry in std::fs::read_dir(dir.join("models")).expect("models folder") {
        files.push(entry.expect("entry").path());
    }
    for f in files {
        let text = std::fs::read_to_string(&f).expect("reads");
        for doc in Yaml::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display())) {
            yaml_strings(&doc, &mut env);
        }
    }
    for p in FIXED_PATHS {
        env.add(p);
    }
    env
}

/// Base64 runs of the text decoded as `-EncodedCommand` text (UTF-16LE) or as UTF-8.
fn decoded(text: &str) -> Vec<String> {
    use base64::Engine;
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
        .filter(|w| w.len() >= 16)
        .filter_map(|w| {
            sigil_catalog::telemetry::decode_encoded_command(w).or_else(|| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(w).ok()?;
                let s = String::from_utf8(bytes).ok()?;
                s.chars()
                    .all(|c| !c.is_control() || c.is_whitespace())
                    .then_some(s)
            })
        })
        .collect()
}

/// What the test provides: command, cleanup, argument defaults, dependency commands (with
/// arguments substituted), the text files of its technique folder, decoded base64.
fn provided(t: &sigil_catalog::AtomicEntry) -> Text {
    let mut own = Text::default();
    own.add(&t.command);
    own.add(t.cleanup_command.as_deref().unwrap_or(""));
    for a in &t.input_arguments {
        own.add(&a.default);
    }
    if let Ok(text) = std::fs::read_to_string(&t.path)
        && let Ok(docs) = Yaml::load_from_str(&text)
        && let Some(Yaml::Sequence(tests)) =
            docs.first().and_then(|d| d.as_mapping_get("atomic_tests"))
    {
        for test in tests {
            if scalar(test.as_mapping_get("auto_generated_guid")).as_deref() != Some(&t.guid) {
                continue;
            }
            if let Some(Yaml::Sequence(deps)) = test.as_mapping_get("dependencies") {
                for d in deps {
                    for k in ["prereq_command", "get_prereq_command", "description"] {
                        if let Some(s) = scalar(d.as_mapping_get(k)) {
                            own.add(&sigil_catalog::atomic::substitute(&s, &t.input_arguments));
                        }
                    }
                }
            }
        }
    }
    if let Some(dir) = t.path.parent() {
        for entry in walk(dir) {
            if entry.extension().is_some_and(|e| e != "yaml" && e != "md")
                && let Ok(text) = std::fs::read_to_string(&entry)
            {
                own.add(&text);
            }
        }
    }
    let extra: Vec<String> = own.parts.iter().flat_map(|p| decoded(p)).collect();
    for d in extra {
        own.add(&d);
    }
    own
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Why an unreachable pair is out of reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    NotInCorpus,
    FetchedAtRunTime,
    HarnessModule,
    AtomicsFiles,
    RuleTextModified,
    RuleTextAbsent,
}

impl Cause {
    fn name(self) -> &'static str {
        match self {
            Cause::NotInCorpus => "test not in the corpus",
            Cause::FetchedAtRunTime => "text fetched at run time",
            Cause::HarnessModule => "AtomicTestHarnesses module code",
            Cause::AtomicsFiles => "PathToAtomicsFolder files absent",
            Cause::RuleTextModified => "rule modified since the lab, text absent",
            Cause::RuleTextAbsent => "rule unchanged since the lab, text absent",
        }
    }
}

/// The test fetches something from the network and runs or reads it.
fn fetches(command: &str) -> bool {
    let c = command.to_lowercase();
    let url = c.contains("http://") || c.contains("https://");
    let verb = [
        "downloadstring",
        "downloaddata",
        "downloadfile",
        "invoke-webrequest",
        "iwr ",
        "irm ",
        "invoke-restmethod",
        "start-bitstransfer",
        "bitsadmin",
        "urlcache",
        "curl",
        "wget",
        "net.webclient",
        "msxml2",
        "winhttp",
        "import-module http",
    ];
    url && verb.iter().any(|v| c.contains(v))
}

fn harness_module(command: &str) -> bool {
    let re = regex::Regex::new(r"(?i)\b\w+-ATH\w*\b|AtomicTestHarnesses").expect("valid");
    re.is_match(command)
}

/// The test names a file of its atomics folder that the corpus does not hold.
fn atomics_files(t: &sigil_catalog::AtomicEntry, atomics: &Path) -> bool {
    let re = regex::Regex::new(r#"(?i)PathToAtomicsFolder[\\/]+([^\s"'`,;|)]+)"#).expect("valid");
    let text = format!(
        "{}\n{}",
        t.command,
        t.cleanup_command.as_deref().unwrap_or("")
    );
    re.captures_iter(&text).any(|c| {
        let rel = c[1].replace('\\', "/");
        !atomics.join(rel.trim_end_matches('/')).exists()
    })
}

#[derive(Default, Clone, Copy)]
struct Part {
    lab: usize,
    reachable: usize,
    strict: usize,
    found: usize,
    found_reachable: usize,
}

/// The rule's event kind: its logsource category, else its service.
fn kind_of(rule: &CatalogRule) -> String {
    rule.logsource
        .category
        .clone()
        .or_else(|| rule.logsource.service.clone())
        .unwrap_or_else(|| "(none)".into())
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

#[test]
fn how_much_of_the_lab_any_offline_simulation_can_reach() {
    let Some(shared) = shared() else { return };
    let lab = lab_tests(&shared);
    let atomics = shared.join("corpus/atomic-red-team/atomics");
    let catalog = catalog(&shared);
    let rules: HashMap<&str, &CatalogRule> = catalog
        .rules
        .iter()
        .filter_map(|r| Some((r.id.as_deref()?, r)))
        .collect();
    let tests: HashMap<&str, &sigil_catalog::AtomicEntry> = catalog
        .atomics
        .iter()
        .map(|t| (t.guid.as_str(), t))
        .collect();
    let lab_date = lab
        .iter()
        .flat_map(|t| &t.lab_rules)
        .filter_map(|r| rules.get(r.as_str())?.date.clone())
        .max()
        .unwrap_or_default();
    let env = environment();

    let mut parts = [Part::default(); 2];
    let mut causes: BTreeMap<Cause, [usize; 2]> = BTreeMap::new();
    let mut examples: BTreeMap<Cause, Vec<String>> = BTreeMap::new();
    // Per event kind: lab pairs, reachable, found.
    let mut kinds: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    // Reachable lab pairs the simulation misses, per rule.
    let mut missed: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    let mut found_unreachable = Vec::new();
    // Unreachable pairs by cause and event kind.
    let mut cause_kinds: BTreeMap<(Cause, String), [usize; 2]> = BTreeMap::new();
    for lt in &lab {
        let part = usize::from(held_out(&lt.guid));
        let seen: BTreeSet<&str> = lt
            .lab_rules
            .iter()
            .map(String::as_str)
            .filter(|r| rules.contains_key(r))
            .collect();
        if seen.is_empty() {
            continue;
        }
        let Some(t) = tests.get(lt.guid.as_str()) else {
            for _ in &seen {
                parts[part].lab += 1;
                causes.entry(Cause::NotInCorpus).or_default()[part] += 1;
            }
            examples
                .entry(Cause::NotInCorpus)
                .or_default()
                .push(lt.name.clone());
            continue;
        };
        let fired: BTreeSet<&str> = t.fired.iter().map(|r| r.id.as_str()).collect();
        let mut own = provided(t);
        for e in &t.events {
            for (_, v) in &e.fields {
                own.add(v);
            }
        }
        let generous = Haystack {
            own: &own,
            env: Some(&env),
        };
        let strict = Haystack {
            own: &own,
            env: None,
        };
        for r in &seen {
            let rule = rules[r];
            let k = kinds.entry(kind_of(rule)).or_default();
            let p = &mut parts[part];
            p.lab += 1;
            k[0] += 1;
            let reachable = generous.rule(rule);
            let is_found = fired.contains(r);
            p.found += usize::from(is_found);
            k[2] += usize::from(is_found);
            if is_found && !reachable {
                found_unreachable.push(format!("{} / {}", t.name, rule.title));
            }
            if reachable {
                p.reachable += 1;
                k[1] += 1;
                p.strict += usize::from(strict.rule(rule));
                p.found_reachable += usize::from(is_found);
                if !is_found {
                    missed.entry(rule.title.clone()).or_default()[part] += 1;
                    if std::env::var("ATOMIC_BOUND_RULE")
                        .is_ok_and(|v| v == rule.title || v == kind_of(rule))
                    {
                        println!(
                            "reachable, missed: {} / {} [{}] ({}; without the global environment: {})",
                            rule.title,
                            t.name,
                            t.guid,
                            t.executor,
                            strict.rule(rule)
                        );
                    }
                }
                continue;
            }
            let cause = if fetches(&t.command) {
                Cause::FetchedAtRunTime
            } else if harness_module(&t.command) {
                Cause::HarnessModule
            } else if atomics_files(t, &atomics) {
                Cause::AtomicsFiles
            } else if rule.modified.as_deref().unwrap_or("") > lab_date.as_str() {
                Cause::RuleTextModified
            } else {
                Cause::RuleTextAbsent
            };
            causes.entry(cause).or_default()[part] += 1;
            cause_kinds.entry((cause, kind_of(rule))).or_default()[part] += 1;
            let list = examples.entry(cause).or_default();
            if list.len() < 4 || std::env::var("ATOMIC_BOUND_ALL").is_ok_and(|c| c == cause.name())
            {
                let mut unmet = Vec::new();
                if let RuleBody::Detection(d) = &rule.ir.body {
                    generous.unmet(&d.to_expr(), &mut unmet);
                }
                unmet.truncate(2);
                list.push(format!(
                    "{} [{}] / {} (needs {})",
                    t.name,
                    t.guid,
                    rule.title,
                    unmet.join("; ")
                ));
            }
        }
    }

    println!("lab date (newest rule the lab saw): {lab_date}");
    println!(
        "{:<10} {:>5} {:>9} {:>11} {:>12} {:>7} {:>13}",
        "part", "lab", "reachable", "max recall", "strict bound", "found", "recall now"
    );
    let all = Part {
        lab: parts[0].lab + parts[1].lab,
        reachable: parts[0].reachable + parts[1].reachable,
        strict: parts[0].strict + parts[1].strict,
        found: parts[0].found + parts[1].found,
        found_reachable: parts[0].found_reachable + parts[1].found_reachable,
    };
    for (name, p) in [("tuning", parts[0]), ("held-out", parts[1]), ("all", all)] {
        println!(
            "{name:<10} {:>5} {:>9} {:>11} {:>12} {:>7} {:>13}",
            p.lab,
            p.reachable,
            pct(p.reachable, p.lab),
            format!("{} {}", p.strict, pct(p.strict, p.lab)),
            p.found,
            pct(p.found, p.lab),
        );
        println!(
            "{:<10} of the reachable pairs the simulation finds {} ({})",
            "",
            p.found_reachable,
            pct(p.found_reachable, p.reachable)
        );
    }
    println!("unreachable, by first cause: tuning / held-out");
    for (c, [a, b]) in &causes {
        println!("  {:<44} {a:>5} / {b:<5}", c.name());
        for e in examples.get(c).into_iter().flatten() {
            println!("      e.g. {e}");
        }
    }
    println!("unreachable, by cause and event kind: tuning / held-out");
    for ((c, k), [a, b]) in &cause_kinds {
        println!("  {:<44} {k:<20} {a:>5} / {b:<5}", c.name());
    }
    // What could still be an effect of the test's own commands that the simulation does
    // not model (the classifier only knows effects the simulation produces): unreachable
    // pairs of rules on events other than script text.
    let effects: Vec<usize> = (0..2)
        .map(|part| {
            cause_kinds
                .iter()
                .filter(|((c, k), _)| {
                    *c != Cause::NotInCorpus && k != "ps_script" && k != "ps_module"
                })
                .map(|(_, n)| n[part])
                .sum()
        })
        .collect();
    println!(
        "unreachable pairs on events other than script text (could be unmodelled effects): \
         tuning {} / held-out {}; counting them all reachable: {} / {}",
        effects[0],
        effects[1],
        pct(parts[0].reachable + effects[0], parts[0].lab),
        pct(parts[1].reachable + effects[1], parts[1].lab),
    );
    println!("by event kind: lab / reachable / found");
    let mut kv: Vec<_> = kinds.iter().collect();
    kv.sort_by_key(|(_, v)| std::cmp::Reverse(v[0]));
    for (k, [l, r, f]) in kv {
        println!("  {k:<24} {l:>5} {r:>5} {f:>5}");
    }
    println!("reachable lab pairs the simulation misses, by rule: tuning / held-out (top 25)");
    let mut mv: Vec<_> = missed.into_iter().collect();
    mv.sort_by(|a, b| {
        (b.1[0] + b.1[1])
            .cmp(&(a.1[0] + a.1[1]))
            .then(a.0.cmp(&b.0))
    });
    for (title, [a, b]) in mv.iter().take(25) {
        println!("  {a:>4} / {b:<4} {title}");
    }

    assert!(all.lab > 1000, "the lab's pairs are read ({})", all.lab);
    assert!(
        found_unreachable.is_empty(),
        "pairs the simulation finds but the classifier calls unreachable: {found_unreachable:?}"
    );
    for p in &parts {
        assert!(p.strict <= p.reachable && p.found <= p.reachable);
    }
}
