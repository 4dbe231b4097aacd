//! Checks of a rule's logsource and of the fields it searches, most of them against
//! SigmaHQ's validator data ([`crate::sigmahq`]): unknown logsources, field names the
//! logsource does not have, fields the logsource already implies, file name prefixes.

use sigil_core::{Diagnostic, Expr, Op, Piece, Predicate, Rule, RuleBody, Value};

use super::{Lint, LintInfo, declare_lint, known};
use crate::sigmahq::builtin;
use crate::{RuleSource, SigmaFile};

/// Calls `f` on every predicate of a detection rule (not of a filter or correlation:
/// their logsource is that of other rules).
fn detection_predicates<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a Predicate)) {
    if let RuleBody::Detection(d) = &rule.body {
        for s in &d.searches {
            Expr::for_each_predicate(&s.expr, f);
        }
    }
}

/// Calls `f` on every predicate of a detection rule that has a field.
fn fields<'a>(rule: &'a Rule, f: &mut impl FnMut(&'a Predicate, &'a str)) {
    detection_predicates(rule, &mut |p| {
        if let Some(field) = &p.field {
            f(p, field);
        }
    });
}

fn is_detection(rule: &Rule) -> bool {
    matches!(rule.body, RuleBody::Detection(_))
}

/// How a logsource is shown in messages: `product/category/service`, `-` for a missing part.
fn show(rule: &Rule) -> String {
    let ls = &rule.logsource;
    [&ls.product, &ls.category, &ls.service]
        .iter()
        .map(|p| p.as_deref().unwrap_or("-"))
        .collect::<Vec<_>>()
        .join("/")
}

declare_lint! {
    /// A logsource that SigmaHQ's taxonomy does not know.
    ///
    /// Why: backends and pipelines place a rule by its logsource; one that no pipeline
    /// knows is converted without any event filter or not at all, and is often a typo
    /// (`proces_creation`) or a service under the wrong product. Checked against SigmaHQ's
    /// taxonomy (`sigmahq_taxonomy.json`, built in).
    ///
    /// Example: `logsource: {product: windows, category: process_create}`.
    UnknownLogsource, "unknown-logsource", Warning, reader: false,
    pysigma: "sigmahq_logsource_unknown", optional: true
}

impl Lint for UnknownLogsource {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if is_detection(rule) && builtin().logsource(&rule.logsource).is_none() {
            out.push(Self::at(
                source.span_of("logsource"),
                format!(
                    "SigmaHQ's taxonomy has no logsource {} (product/category/service)",
                    show(rule)
                ),
            ));
        }
    }
}

declare_lint! {
    /// A field name that SigmaHQ's taxonomy does not list for the rule's logsource.
    ///
    /// Why: a field the events never have makes its search always false. Checked only for
    /// the logsources whose fields the taxonomy lists (Sysmon categories, Windows
    /// services, ...); names are compared exactly.
    ///
    /// Example: `CommandLines|contains: ...` in a `process_creation` rule.
    InvalidFieldName, "invalid-field-name", Warning, reader: false,
    pysigma: "sigmahq_invalid_fieldname", optional: true
}

impl Lint for InvalidFieldName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let known_fields = builtin().fields(&rule.logsource);
        if known_fields.is_empty() {
            return;
        }
        fields(rule, &mut |p, field| {
            if !known_fields.iter().any(|k| k == field) {
                out.push(Self::at(
                    p.span,
                    format!(
                        "`{field}` is not a field of the logsource {} in SigmaHQ's taxonomy",
                        show(rule)
                    ),
                ));
            }
        });
    }
}

declare_lint! {
    /// A field name written in another case than SigmaHQ's taxonomy writes it.
    ///
    /// Why: field names are case-sensitive in most backends (`commandline` is not
    /// `CommandLine`); the search never matches there.
    ///
    /// Example: `commandline|contains: ...` in a `process_creation` rule.
    FieldNameCase, "field-name-case", Warning, reader: false,
    pysigma: "sigmahq_fieldname_cast", optional: true
}

impl Lint for FieldNameCase {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let known_fields = builtin().fields(&rule.logsource);
        fields(rule, &mut |p, field| {
            if known_fields.iter().any(|k| k == field) {
                return;
            }
            let lower = field.to_lowercase();
            if let Some(k) = known_fields.iter().find(|k| k.to_lowercase() == lower) {
                out.push(Self::at(
                    p.span,
                    format!("`{field}` is written `{k}` in SigmaHQ's taxonomy"),
                ));
            }
        });
    }
}

declare_lint! {
    /// A field that the logsource already implies (`EventID`, `Channel` of a Sysmon
    /// category).
    ///
    /// Why: the pipeline of each backend adds the right `Channel` and `EventID` for the
    /// category; written in the rule they are redundant, and wrong for the other log
    /// sources the category covers (Sysmon and Security both give `process_creation`).
    ///
    /// Example: `EventID: 1` in a `process_creation` rule.
    RedundantField, "redundant-field", Warning, reader: false,
    pysigma: "sigmahq_redundant_field", optional: true
}

impl Lint for RedundantField {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let Some(entry) = builtin().logsource(&rule.logsource) else {
            return;
        };
        fields(rule, &mut |p, field| {
            if entry.redundant.iter().any(|r| r == field) {
                out.push(Self::at(
                    p.span,
                    format!("`{field}` is implied by the logsource {}", show(rule)),
                ));
            }
        });
    }
}

declare_lint! {
    /// `EventID` in a Windows category whose events are all of one kind.
    ///
    /// Why: a category such as `process_creation` is already one event kind, whatever its
    /// provider (Sysmon 1, Security 4688); an `EventID` ties the rule to one provider and
    /// is wrong for the others. SigmaHQ's list of such categories is built in.
    ///
    /// Example: `EventID: 4688` in a `process_creation` rule.
    NeedlessEventId, "needless-event-id", Warning, reader: false,
    pysigma: "sigmahq_category_event_id", optional: true
}

impl Lint for NeedlessEventId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let ls = &rule.logsource;
        let data = builtin();
        if ls.product.as_deref() != Some("windows")
            || !ls
                .category
                .as_ref()
                .is_some_and(|c| data.category_no_eventid.contains(c))
        {
            return;
        }
        fields(rule, &mut |p, field| {
            if field == "EventID" {
                out.push(Self::at(
                    p.span,
                    format!(
                        "the category `{}` needs no `EventID`",
                        ls.category.as_deref().unwrap_or_default()
                    ),
                ));
            }
        });
    }
}

declare_lint! {
    /// `Provider_Name` with a provider the Windows category already implies.
    ///
    /// Why: the category is defined by its providers (`process_creation` comes from
    /// Sysmon or the Security log); naming one of them adds nothing and ties the rule to
    /// that provider.
    ///
    /// Example: `Provider_Name: Microsoft-Windows-Sysmon` in a `process_creation` rule.
    NeedlessProviderName, "needless-provider-name", Warning, reader: false,
    pysigma: "sigmahq_category_windows_provider_name", optional: true
}

impl Lint for NeedlessProviderName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let ls = &rule.logsource;
        if ls.product.as_deref() != Some("windows") {
            return;
        }
        let Some(providers) = ls
            .category
            .as_ref()
            .and_then(|c| builtin().category_provider_name.get(c))
        else {
            return;
        };
        fields(rule, &mut |p, field| {
            if field != "Provider_Name" {
                return;
            }
            let implied = p.values.iter().find_map(|v| match v {
                Value::Str(s) => s.as_literal().filter(|t| providers.iter().any(|x| x == t)),
                _ => None,
            });
            if let Some(name) = implied {
                out.push(Self::at(
                    p.span,
                    format!(
                        "`{name}` is implied by the category `{}`",
                        ls.category.as_deref().unwrap_or_default()
                    ),
                ));
            }
        });
    }
}

declare_lint! {
    /// A Sysmon rule (`service: sysmon`) that never selects an `EventID`.
    ///
    /// Why: the Sysmon log holds some thirty event kinds with different fields; without
    /// an `EventID` the rule searches all of them. (For one kind, prefer its generic
    /// category: `process_creation`, `image_load`...)
    ///
    /// Example: `logsource: {product: windows, service: sysmon}` with only `Image:`.
    SysmonWithoutEventId, "sysmon-without-event-id", Warning, reader: false,
    pysigma: "sigmahq_sysmon_missing_eventid", optional: true
}

impl Lint for SysmonWithoutEventId {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if !is_detection(rule) || rule.logsource.service.as_deref() != Some("sysmon") {
            return;
        }
        let mut has = false;
        fields(rule, &mut |_, field| has |= field == "EventID");
        if !has {
            out.push(Self::at(
                source.span_of("logsource"),
                "a Sysmon rule without `EventID` searches every Sysmon event kind",
            ));
        }
    }
}

declare_lint! {
    /// A Sysmon or Security `EventID` for which Sigma has a generic category.
    ///
    /// Why: `service: sysmon` with `EventID: 1` is `category: process_creation`, which
    /// every backend's pipeline maps to Sysmon *and* the Security log (4688), and to EDR
    /// tables; the specific form converts for Sysmon only.
    ///
    /// Example: `service: sysmon` and `EventID: 1` — `category: process_creation`.
    SpecificLogsource, "specific-logsource", Warning, reader: false,
    pysigma: "specific_instead_of_generic_logsource", optional: true
}

/// The generic category of an event id of a Windows service, if Sigma has one.
fn generic_category(service: &str, id: i64) -> Option<&'static str> {
    match (service, id) {
        ("security", 4688) | ("sysmon", 1) => Some("process_creation"),
        ("sysmon", _) => Some(match id {
            2 => "file_change",
            3 => "network_connection",
            4 | 16 => "sysmon_status",
            5 => "process_termination",
            6 => "driver_load",
            7 => "image_load",
            8 => "create_remote_thread",
            9 => "raw_access_thread",
            10 => "process_access",
            11 => "file_event",
            12..=14 => "registry_event",
            15 => "create_stream_hash",
            17 | 18 => "pipe_created",
            19..=21 => "wmi_event",
            22 => "dns_query",
            23 => "file_delete",
            24 => "clipboard_change",
            25 => "process_tampering",
            26 => "file_delete_detected",
            27 => "file_block_executable",
            28 => "file_block_shredding",
            29 => "file_executable_detected",
            255 => "sysmon_error",
            _ => return None,
        }),
        _ => None,
    }
}

impl Lint for SpecificLogsource {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        let ls = &rule.logsource;
        let Some(service) = ls.service.as_deref() else {
            return;
        };
        if ls.product.as_deref() != Some("windows") {
            return;
        }
        fields(rule, &mut |p, field| {
            if field != "EventID" {
                return;
            }
            for v in &p.values {
                if let Value::Int(id) = v
                    && let Some(category) = generic_category(service, *id)
                {
                    out.push(Self::at(
                        p.span,
                        format!(
                            "`{service}` event {id}: use `category: {category}`, which covers \
                             every source of these events"
                        ),
                    ));
                }
            }
        });
    }
}

declare_lint! {
    /// A Sysmon hash search (`Hashes`, `Hash`) that is not `ALGORITHM=hex digest`.
    ///
    /// Why: Sysmon writes hashes as `MD5=...,SHA256=...,IMPHASH=...`; a value of another
    /// form (a bare digest, `SHA-256=`, a digest of the wrong length) never matches.
    /// Algorithms: `MD5`, `SHA1`, `SHA256`, `IMPHASH`.
    ///
    /// Example: `Hashes|contains: 'SHA256=0123'`.
    InvalidHashValue, "invalid-hash-value", Warning, reader: false,
    pysigma: "sigmahq_invalid_hash_kv", optional: true
}

/// What is wrong with one literal part of a hash search, if anything.
fn hash_problem(text: &str) -> Option<String> {
    let Some((algorithm, digest)) = text.split_once('=').filter(|(_, d)| !d.contains('=')) else {
        return Some(format!("`{text}` is not `ALGORITHM=digest`"));
    };
    let len = match algorithm {
        "MD5" | "IMPHASH" => 32,
        "SHA1" => 40,
        "SHA256" => 64,
        _ => return Some(format!("`{algorithm}` is not a Sysmon hash algorithm")),
    };
    (digest.len() != len || !digest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("`{digest}` is not a {algorithm} digest ({len} hex digits)"))
}

impl Lint for InvalidHashValue {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        fields(rule, &mut |p, field| {
            if field != "Hashes" && field != "Hash" {
                return;
            }
            for v in &p.values {
                let problems: Vec<String> = match v {
                    Value::Str(s) => s
                        .pieces()
                        .iter()
                        .filter_map(|piece| match piece {
                            Piece::Lit(t) => hash_problem(t),
                            _ => None,
                        })
                        .collect(),
                    other => vec![format!("`{other}` is not `ALGORITHM=digest`")],
                };
                for m in problems {
                    out.push(Self::at(p.span, m));
                }
            }
        });
    }
}

declare_lint! {
    /// A field name with a space.
    ///
    /// Why: event fields are written with `_` or in CamelCase; a name with a space is
    /// usually a display name copied from a viewer and matches nothing.
    ///
    /// Example: `Process Name: x.exe` — `ProcessName`.
    SpaceInFieldName, "space-in-field-name", Warning, reader: false,
    pysigma: "sigmahq_space_field_name", optional: true
}

impl Lint for SpaceInFieldName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        fields(rule, &mut |p, field| {
            if field.contains(' ') {
                out.push(Self::at(
                    p.span,
                    format!("the field name `{field}` has a space"),
                ));
            }
        });
    }
}

declare_lint! {
    /// A user field compared with `NT AUTHORITY\...` or one of its translations
    /// (`AUTORITE NT`, `NT-AUTORITÄT`, ...).
    ///
    /// Why: the name differs with the language of Windows; the rule matches on systems
    /// of one language only. Compare with the account's SID or name suffix
    /// (`User|endswith: \SYSTEM`, `LogonId: 0x3e7`) instead.
    ///
    /// Example: `User: 'AUTORITE NT\Système'`.
    LocalizedUserName, "localized-user-name", Warning, reader: false,
    pysigma: "sigmahq_field_user", optional: true
}

impl Lint for LocalizedUserName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        fields(rule, &mut |p, field| {
            if !field.to_lowercase().contains("user") {
                return;
            }
            if let [v] = p.values.as_slice() {
                let text = v.to_text();
                if text.contains("AUTORI") || text.contains("AUTHORI") {
                    out.push(Self::at(
                        p.span,
                        format!("`{text}` is a localised name: it differs between systems"),
                    ));
                }
            }
        });
    }
}

declare_lint! {
    /// A regular expression with a lookahead, lookbehind or atomic group (`(?=`, `(?!`,
    /// `(?<=`, `(?<!`, `(?>`).
    ///
    /// Why: most backends' regular expression engines (RE2 in many SIEMs, Rust's `regex`
    /// in sigil's own engine, Lucene) have none of them: the rule cannot be converted or
    /// run there.
    ///
    /// Example: `CommandLine|re: 'cmd(?!\.exe)'`.
    RegexLookaround, "regex-lookaround", Warning, reader: false,
    pysigma: "sigmahq_unsupported_regex_group_construct", optional: true
}

impl Lint for RegexLookaround {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, _source: &RuleSource, out: &mut Vec<Diagnostic>) {
        detection_predicates(rule, &mut |p| {
            if p.op != Op::Regex {
                return;
            }
            let mut seen: Vec<&str> = Vec::new();
            for v in &p.values {
                let Value::Regex(re) = v else { continue };
                if seen.contains(&re.as_str()) {
                    continue;
                }
                if let Some(c) = ["(?=", "(?!", "(?<=", "(?<!", "(?>"]
                    .into_iter()
                    .find(|c| re.contains(c))
                {
                    seen.push(re);
                    out.push(Self::at(
                        p.span,
                        format!("`{re}` uses `{c}`, which most regular expression engines lack"),
                    ));
                }
            }
        });
    }
}

declare_lint! {
    /// A logsource key other than `category`, `product`, `service` and `definition`.
    ///
    /// Why: backends and pipelines read only those four; another key (a typo such as
    /// `categroy`, or `platform:`) is ignored, so the rule is placed as if it were absent.
    ///
    /// Example: `logsource: {product: windows, categroy: process_creation}`.
    UnknownLogsourceKey, "unknown-logsource-key", Warning, reader: false,
    pysigma: "fieldname_logsource"
}

impl Lint for UnknownLogsourceKey {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_rule(&self, rule: &Rule, source: &RuleSource, out: &mut Vec<Diagnostic>) {
        if !is_detection(rule) {
            return;
        }
        for key in rule.logsource.custom.keys() {
            out.push(Self::at(
                source.span_of("logsource"),
                format!("`{key}` is not a logsource key (category, product, service, definition)"),
            ));
        }
    }
}

declare_lint! {
    /// A file name that does not start with SigmaHQ's prefix for the rule's logsource.
    ///
    /// Why: SigmaHQ names rule files after their logsource (`proc_creation_win_...`,
    /// `registry_set_...`, `azure_...`), so that a folder sorts by where the events come
    /// from. The prefixes are SigmaHQ's (`sigmahq_filename.json`, built in): that of the
    /// logsource, else that of its product. Files that hold a correlation with its rules
    /// are not checked.
    ///
    /// Example: `mimikatz_execution.yml` for a `process_creation` rule —
    /// `proc_creation_win_mimikatz_execution.yml`.
    FilenamePrefix, "filename-prefix", Warning, reader: false,
    pysigma: "sigmahq_filename_prefix", optional: true
}

impl Lint for FilenamePrefix {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check_set(&self, files: &[&SigmaFile], out: &mut Vec<(usize, Diagnostic)>) {
        for (fi, file) in files.iter().enumerate() {
            // A file with a correlation and its rules holds several logsources.
            let combined = file
                .rules
                .iter()
                .any(|r| matches!(r.body, RuleBody::Correlation(_)))
                && file.rules.iter().any(is_detection);
            if combined {
                continue;
            }
            for (rule, source) in file.rules.iter().zip(&file.sources) {
                let Some(name) = source
                    .path
                    .as_ref()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy())
                else {
                    continue;
                };
                if !is_detection(rule) {
                    continue;
                }
                if let Some(prefix) = builtin().filename_prefix(&rule.logsource)
                    && !name.starts_with(prefix)
                {
                    out.push((
                        fi,
                        Self::at(
                            known(source.span_of("logsource"), source.span),
                            format!(
                                "`{name}` does not start with `{prefix}`, SigmaHQ's prefix for {}",
                                show(rule)
                            ),
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::codes;

    #[test]
    fn unknown_logsources_and_keys() {
        let rule = |ls: &str| {
            format!(
                "title: T\nlogsource:\n{ls}\ndetection:\n  sel:\n    Image: x\n  condition: sel\n"
            )
        };
        let found = codes(&rule("  product: windows\n  category: process_create"));
        assert!(found.contains(&"unknown-logsource"), "{found:?}");
        let found = codes(&rule("  product: windows\n  category: process_creation"));
        assert!(!found.contains(&"unknown-logsource"), "{found:?}");
        let found = codes(&rule("  product: windows\n  categroy: process_creation"));
        assert!(found.contains(&"unknown-logsource-key"), "{found:?}");
    }

    #[test]
    fn field_names_against_the_taxonomy() {
        let rule = |fields: &str| {
            format!(
                "title: T\nlogsource:\n  product: windows\n  category: process_creation\n\
                 detection:\n  sel:\n{fields}\n  condition: sel\n"
            )
        };
        let found = codes(&rule("    CommandLine|contains: x\n    Image: y"));
        for c in [
            "invalid-field-name",
            "field-name-case",
            "redundant-field",
            "needless-event-id",
        ] {
            assert!(!found.contains(&c), "{c} in {found:?}");
        }
        let found = codes(&rule("    commandline|contains: x"));
        assert!(found.contains(&"field-name-case"), "{found:?}");
        assert!(found.contains(&"invalid-field-name"), "{found:?}");
        let found = codes(&rule("    CommandLines: x"));
        assert!(found.contains(&"invalid-field-name"), "{found:?}");
        assert!(!found.contains(&"field-name-case"), "{found:?}");
        let found = codes(&rule("    EventID: 4688"));
        assert!(found.contains(&"redundant-field"), "{found:?}");
        assert!(found.contains(&"needless-event-id"), "{found:?}");
        let found = codes(&rule("    Provider_Name: Microsoft-Windows-Sysmon"));
        assert!(found.contains(&"needless-provider-name"), "{found:?}");
        let found = codes(&rule("    Provider_Name: Other"));
        assert!(!found.contains(&"needless-provider-name"), "{found:?}");
        let found = codes(&rule("    Process Name: x"));
        assert!(found.contains(&"space-in-field-name"), "{found:?}");
    }

    #[test]
    fn sysmon_event_ids() {
        let rule = |sel: &str| {
            format!(
                "title: T\nlogsource:\n  product: windows\n  service: sysmon\n\
                 detection:\n  sel:\n{sel}\n  condition: sel\n"
            )
        };
        let found = codes(&rule("    Image: x"));
        assert!(found.contains(&"sysmon-without-event-id"), "{found:?}");
        assert!(!found.contains(&"specific-logsource"), "{found:?}");
        let found = codes(&rule("    EventID: 1\n    Image: x"));
        assert!(!found.contains(&"sysmon-without-event-id"), "{found:?}");
        assert!(found.contains(&"specific-logsource"), "{found:?}");
        let found = codes(&rule("    EventID: 30"));
        assert!(!found.contains(&"specific-logsource"), "{found:?}");
    }

    #[test]
    fn hashes_users_and_regular_expressions() {
        let rule = |sel: &str| {
            format!(
                "title: T\nlogsource:\n  product: windows\n  category: image_load\n\
                 detection:\n  sel:\n{sel}\n  condition: sel\n"
            )
        };
        let md5 = "0123456789abcdef0123456789ABCDEF";
        let found = codes(&rule(&format!("    Hashes|contains: 'MD5={md5}'")));
        assert!(!found.contains(&"invalid-hash-value"), "{found:?}");
        for bad in ["MD5=0123", "SHA-256=ab", md5, "MD5=1=2"] {
            let found = codes(&rule(&format!("    Hashes|contains: '{bad}'")));
            assert!(found.contains(&"invalid-hash-value"), "{bad}: {found:?}");
        }
        let found = codes(&rule("    User|contains: 'AUTORITE NT'"));
        assert!(found.contains(&"localized-user-name"), "{found:?}");
        let found = codes(&rule("    User|contains: 'NT AUTHORITY'"));
        assert!(found.contains(&"localized-user-name"), "{found:?}");
        let found = codes(&rule("    User|endswith: '\\SYSTEM'"));
        assert!(!found.contains(&"localized-user-name"), "{found:?}");
        let found = codes(&rule("    ImageLoaded|re: 'a(?!b)'"));
        assert!(found.contains(&"regex-lookaround"), "{found:?}");
        let found = codes(&rule("    ImageLoaded|re: 'a(b)'"));
        assert!(!found.contains(&"regex-lookaround"), "{found:?}");
    }

    #[test]
    fn filename_prefixes() {
        use crate::lint::{Selection, check_set_with};
        let text = "title: T\nlogsource:\n  product: windows\n  category: process_creation\n\
                    detection:\n  sel:\n    Image: x\n  condition: sel\n";
        let at = |name: &str| {
            let mut f = crate::parse_str(text);
            f.set_path(std::path::Path::new(name));
            check_set_with(&[&f], &Selection::all())
                .into_iter()
                .map(|(_, d)| d.code)
                .collect::<Vec<_>>()
        };
        assert!(at("rules/mimikatz_execution.yml").contains(&"filename-prefix"));
        assert!(!at("rules/proc_creation_win_mimikatz.yml").contains(&"filename-prefix"));
    }
}
