//! Which rules are for which logs.
//!
//! A Sigma rule names the log source it is written for (`product: linux`, `service:
//! auditd`, `category: proxy`); an Elastic rule names its operating systems (`OS: Linux`
//! tags) and index patterns. A rule evaluated against logs it is not for is at best
//! useless and at worst a flood of false alarms: a zeek rule whose condition is `not
//! selection` matches every Windows event. A [`LogScope`] says what some logs can hold,
//! and [`LogScope::admits`] whether a rule, as the chosen pipelines processed it, is for
//! them:
//!
//! - a rule naming a product is for logs of that product only (`product: windows` rules
//!   are Windows rules whether or not the pipelines know their service or category);
//! - a rule naming no product is for the logs only if the pipelines map its log source to
//!   their events (a `logsource` rule condition of theirs chose the rule), or if it names
//!   the category or service the scope declares;
//! - where the scope and the rule both name a category or a service, they must agree.
//!
//! Correlation rules are for the logs their rules are for (decided by the caller, who
//! knows which rules they refer to); filters only ever change other rules and are always
//! admitted.

use sigil_core::{Rule, RuleBody, RuleLanguage};

use crate::Processed;

/// What some logs can hold, in Sigma logsource terms. `None` fields are not known, and
/// admit any value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogScope {
    /// The product (`windows`, `linux`, ...).
    pub product: Option<String>,
    /// The category (`process_creation`, `proxy`, ...).
    pub category: Option<String>,
    /// The service (`auditd`, `sysmon`, ...).
    pub service: Option<String>,
}

/// Whether a rule is for the logs of a scope, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The rule is evaluated against these logs.
    In,
    /// The rule is not for these logs.
    Out {
        /// Why, naming the rule's logsource.
        reason: String,
        /// What the rule is for, in a word or two (`linux`, `category database`), to
        /// count rules left out by what they are for.
        written_for: String,
    },
}

impl Admission {
    /// Whether the rule is admitted.
    pub fn is_in(&self) -> bool {
        matches!(self, Admission::In)
    }
}

impl LogScope {
    /// Windows event logs (EVTX files, or their events exported as JSON).
    pub fn windows() -> Self {
        Self {
            product: Some("windows".to_string()),
            ..Self::default()
        }
    }

    /// Reads a declaration such as `product=linux,service=auditd` (keys `product`,
    /// `category`, `service`, each at most once).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut scope = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!(
                    "`{part}` is not `key=value` (e.g. `product=linux,service=auditd`)"
                ));
            };
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("`{part}` has no value"));
            }
            let slot = match key.trim() {
                "product" => &mut scope.product,
                "category" => &mut scope.category,
                "service" => &mut scope.service,
                other => {
                    return Err(format!(
                        "unknown logsource key `{other}` (product, category, service)"
                    ));
                }
            };
            if slot.is_some() {
                return Err(format!("`{}` is given twice", key.trim()));
            }
            *slot = Some(value.to_ascii_lowercase());
        }
        if scope == Self::default() {
            return Err("an empty logsource (e.g. `product=linux,service=auditd`)".to_string());
        }
        Ok(scope)
    }

    /// Whether `rule` is for logs of this scope. `processed` is the rule as the chosen
    /// pipelines left it (`None`: no pipeline ran); its logsource is the one judged, as a
    /// pipeline may change it.
    pub fn admits(&self, rule: &Rule, processed: Option<&Processed>) -> Admission {
        if matches!(rule.body, RuleBody::Filter(_)) {
            return Admission::In;
        }
        let judged = processed.map_or(rule, |p| &p.rule);
        let ls = &judged.logsource;
        let products = products(judged);
        let differs = |want: &Option<String>, have: &Option<String>| match (want, have) {
            (Some(w), Some(h)) => !w.eq_ignore_ascii_case(h),
            _ => false,
        };
        if let Some(product) = &self.product {
            if products.is_empty() {
                let mapped = processed.is_some_and(|p| p.logsource_mapped);
                let named = |want: &Option<String>, have: &Option<String>| matches!((want, have), (Some(w), Some(h)) if w.eq_ignore_ascii_case(h));
                if !mapped
                    && !named(&self.category, &ls.category)
                    && !named(&self.service, &ls.service)
                {
                    return Admission::Out {
                        reason: format!(
                            "{} names no product and the pipelines do not map it to {product} logs",
                            describe(judged)
                        ),
                        written_for: written_for(judged),
                    };
                }
            } else if !products.iter().any(|p| p.eq_ignore_ascii_case(product)) {
                return Admission::Out {
                    reason: format!("{} is not for {product} logs", describe(judged)),
                    written_for: products.join("/"),
                };
            }
        }
        if differs(&self.category, &ls.category) || differs(&self.service, &ls.service) {
            return Admission::Out {
                reason: format!("{} is not for {self} logs", describe(judged)),
                written_for: written_for(judged),
            };
        }
        Admission::In
    }
}

impl std::fmt::Display for LogScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// The products a rule is for: its logsource's, or for an Elastic rule that names several
/// operating systems (or none), those of its `OS:` tags and Windows index patterns.
fn products(rule: &Rule) -> Vec<String> {
    if let Some(p) = &rule.logsource.product {
        return vec![p.to_ascii_lowercase()];
    }
    if rule.language != RuleLanguage::Elastic {
        return Vec::new();
    }
    let mut found: Vec<String> = rule
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix("OS: "))
        .map(|o| o.trim().to_ascii_lowercase())
        .collect();
    if found.is_empty() {
        // Windows-only data streams (Winlogbeat, the Windows and System integrations).
        let index = rule
            .logsource
            .custom
            .get("index")
            .map_or("", String::as_str);
        if index.split(',').map(str::trim).any(|i| {
            i.starts_with("winlogbeat-") || i.starts_with("logs-windows.") || i == "logs-system.*"
        }) {
            found.push("windows".to_string());
        }
    }
    found
}

/// What a rule is for in a word or two: its product, else its category or service.
fn written_for(rule: &Rule) -> String {
    let ls = &rule.logsource;
    if let Some(p) = &ls.product {
        return p.to_ascii_lowercase();
    }
    match (&ls.category, &ls.service) {
        (Some(c), _) => format!("category {c}"),
        (None, Some(s)) => format!("service {s}"),
        (None, None) => "no logsource".to_string(),
    }
}

/// `logsource product=linux, service=auditd` for messages.
fn describe(rule: &Rule) -> String {
    let ls = &rule.logsource;
    let parts: Vec<String> = [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
    .collect();
    if parts.is_empty() {
        "a rule without logsource".to_string()
    } else {
        format!("logsource `{}`", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PipelineSet, builtin};

    fn rule(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Rule {
        let mut r = Rule::new(RuleLanguage::Sigma, "t");
        r.logsource.product = product.map(str::to_string);
        r.logsource.category = category.map(str::to_string);
        r.logsource.service = service.map(str::to_string);
        r
    }

    fn windows_pipelines() -> PipelineSet {
        PipelineSet::new(vec![
            builtin("sysmon").expect("built in"),
            builtin("windows-logsources").expect("built in"),
        ])
    }

    #[test]
    fn windows_logs_take_windows_rules_whatever_their_service() {
        let set = windows_pipelines();
        let scope = LogScope::windows();
        for r in [
            rule(Some("windows"), Some("process_creation"), None),
            // A service no pipeline knows (seed 003's rule): still a Windows rule.
            rule(Some("windows"), None, Some("image_loaded")),
            rule(Some("Windows"), None, None),
        ] {
            let p = set.process(&r).expect("processes");
            assert!(scope.admits(&r, Some(&p)).is_in(), "{:?}", r.logsource);
        }
    }

    #[test]
    fn windows_logs_refuse_other_products_and_unmapped_rules() {
        let set = windows_pipelines();
        let scope = LogScope::windows();
        for r in [
            rule(Some("zeek"), None, Some("rdp")),
            rule(Some("linux"), Some("process_creation"), None),
            rule(Some("macos"), Some("file_event"), None),
            rule(None, Some("database"), None),
            rule(None, Some("proxy"), None),
        ] {
            let p = set.process(&r).expect("processes");
            let a = scope.admits(&r, Some(&p));
            assert!(!a.is_in(), "{:?} admitted", r.logsource);
        }
    }

    #[test]
    fn a_pipeline_that_maps_a_productless_rule_admits_it() {
        let pipeline = crate::Pipeline::from_yaml(
            "name: proxy to windows\ntransformations:\n  - id: proxy_events\n    type: add_condition\n    conditions:\n      EventID: 5156\n    rule_conditions:\n      - type: logsource\n        category: proxy\n",
            "test",
        )
        .expect("valid pipeline");
        let set = PipelineSet::new(vec![pipeline]);
        let r = rule(None, Some("proxy"), None);
        let p = set.process(&r).expect("processes");
        assert!(p.logsource_mapped);
        assert!(LogScope::windows().admits(&r, Some(&p)).is_in());
    }

    #[test]
    fn declared_scopes_compare_each_named_field() {
        let scope = LogScope::parse("product=linux, service=auditd").expect("valid");
        assert!(
            scope
                .admits(&rule(Some("linux"), None, Some("auditd")), None)
                .is_in()
        );
        assert!(
            scope
                .admits(&rule(Some("linux"), Some("process_creation"), None), None)
                .is_in()
        );
        assert!(
            !scope
                .admits(&rule(Some("linux"), None, Some("syslog")), None)
                .is_in()
        );
        assert!(
            !scope
                .admits(&rule(Some("windows"), None, None), None)
                .is_in()
        );
        let proxy = LogScope::parse("category=proxy").expect("valid");
        assert!(proxy.admits(&rule(None, Some("proxy"), None), None).is_in());
        assert!(
            !proxy
                .admits(&rule(None, Some("firewall"), None), None)
                .is_in()
        );
    }

    #[test]
    fn declarations_are_checked() {
        for bad in ["", "product", "product=", "os=linux", "product=a,product=b"] {
            assert!(LogScope::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            LogScope::parse("product=Linux").expect("valid").to_string(),
            "product=linux"
        );
    }

    #[test]
    fn elastic_rules_are_for_their_operating_systems() {
        let mut r = Rule::new(RuleLanguage::Elastic, "e");
        r.tags = vec!["OS: Linux".into(), "OS: Windows".into()];
        assert!(LogScope::windows().admits(&r, None).is_in());
        r.tags = vec!["OS: Linux".into(), "OS: macOS".into()];
        assert!(!LogScope::windows().admits(&r, None).is_in());
        r.tags.clear();
        r.logsource
            .custom
            .insert("index".into(), "winlogbeat-*,logs-windows.*".into());
        assert!(LogScope::windows().admits(&r, None).is_in());
        r.logsource
            .custom
            .insert("index".into(), "logs-aws.cloudtrail-*".into());
        assert!(!LogScope::windows().admits(&r, None).is_in());
    }
}
