//! Event models as data: one YAML file per event kind (`models/*.yml`) names the fields an
//! event of that kind carries, as Sysmon and Windows write them, each a fixed value or a
//! template over the slots the simulation fills (`'{image}'`, `'{command_line}'`); a field
//! whose template names a slot the event does not have is left out. `fields:` are shown to
//! people; `ecs:` are the same values under ECS names, for Elastic rules. `programs.yml`
//! says what programs do beyond their own process.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use saphyr::{LoadableYamlNode, Scalar, Yaml};

use super::{SimEvent, SimValue};

/// The model files, embedded at build time.
const MODELS: &[(&str, &str)] = &[
    (
        "process_creation",
        include_str!("models/process_creation.yml"),
    ),
    ("ps_script", include_str!("models/ps_script.yml")),
    ("ps_module", include_str!("models/ps_module.yml")),
    ("registry_add", include_str!("models/registry_add.yml")),
    ("registry_set", include_str!("models/registry_set.yml")),
    (
        "registry_delete",
        include_str!("models/registry_delete.yml"),
    ),
    ("file_event", include_str!("models/file_event.yml")),
    (
        "network_connection",
        include_str!("models/network_connection.yml"),
    ),
    ("dns_query", include_str!("models/dns_query.yml")),
    ("image_load", include_str!("models/image_load.yml")),
    (
        "service_install",
        include_str!("models/service_install.yml"),
    ),
    (
        "security_service_install",
        include_str!("models/security_service_install.yml"),
    ),
    ("user_created", include_str!("models/user_created.yml")),
    ("process_access", include_str!("models/process_access.yml")),
];

/// One piece of a field template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(String),
}

/// How a field's value is made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Template {
    /// A number (event ids).
    Int(i64),
    /// Text and slots.
    Text(Vec<Piece>),
    /// `'{name[]}'`: the slot split into command-line arguments, as a list.
    Args(String),
}

/// One event kind's model.
#[derive(Debug)]
pub struct Model {
    /// The kind (`process_creation`, `registry_set`, ...).
    pub kind: &'static str,
    fields: Vec<(&'static str, Template)>,
    shown: usize,
}

/// Slot values of one event.
pub type Slots = HashMap<&'static str, String>;

impl Model {
    /// An event of this kind from its slots.
    pub fn event(&'static self, slots: &Slots) -> SimEvent {
        let mut fields = Vec::with_capacity(self.fields.len());
        let mut shown = 0;
        for (i, (name, template)) in self.fields.iter().enumerate() {
            let value = match template {
                Template::Int(n) => Some(SimValue::Int(*n)),
                Template::Args(slot) => slots
                    .get(slot.as_str())
                    .map(|s| SimValue::List(super::text::split_args(s))),
                Template::Text(pieces) => {
                    let mut out = String::new();
                    let mut ok = true;
                    for p in pieces {
                        match p {
                            Piece::Text(t) => out.push_str(t),
                            Piece::Slot(s) => match slots.get(s.as_str()) {
                                Some(v) => out.push_str(v),
                                None => ok = false,
                            },
                        }
                    }
                    ok.then_some(SimValue::Str(out))
                }
            };
            if let Some(v) = value {
                fields.push((*name, v));
                if i < self.shown {
                    shown += 1;
                }
            }
        }
        SimEvent {
            kind: self.kind,
            fields,
            shown,
            cause: String::new(),
        }
    }

    /// The slots a field of this model is made from (for explanations).
    pub fn slots_of(&self, field: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(field))
            .flat_map(|(_, t)| match t {
                Template::Int(_) => Vec::new(),
                Template::Args(s) => vec![s.as_str()],
                Template::Text(p) => p
                    .iter()
                    .filter_map(|p| match p {
                        Piece::Slot(s) => Some(s.as_str()),
                        Piece::Text(_) => None,
                    })
                    .collect(),
            })
            .collect()
    }
}

/// The model of `kind`. Panics only on an unknown kind, which is a programming error: the
/// kinds are the embedded files', checked by a unit test.
pub fn model(kind: &str) -> &'static Model {
    models()
        .iter()
        .find(|m| m.kind == kind)
        .unwrap_or_else(|| panic!("no event model `{kind}`"))
}

/// Every event model.
pub fn models() -> &'static [Model] {
    static MODELS_READ: OnceLock<Vec<Model>> = OnceLock::new();
    MODELS_READ.get_or_init(|| {
        MODELS
            .iter()
            .map(|(kind, text)| {
                parse_model(kind, text).unwrap_or_else(|e| panic!("models/{kind}.yml: {e}"))
            })
            .collect()
    })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn parse_model(kind: &'static str, text: &str) -> Result<Model, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let doc = docs.first().ok_or("empty")?;
    let named = scalar(doc.as_mapping_get("kind")).ok_or("no `kind`")?;
    if named != kind {
        return Err(format!("`kind: {named}` in the file of `{kind}`"));
    }
    let mut fields = Vec::new();
    let mut shown = 0;
    for (section, is_shown) in [("fields", true), ("ecs", false)] {
        let Some(Yaml::Mapping(map)) = doc.as_mapping_get(section) else {
            if is_shown {
                return Err("no `fields`".into());
            }
            continue;
        };
        for (k, v) in map {
            let name = scalar(Some(k)).ok_or("a field name that is not text")?;
            let template = match v {
                Yaml::Value(Scalar::Integer(n)) => Template::Int(*n),
                other => {
                    let t = scalar(Some(other)).ok_or(format!("`{name}` has no value"))?;
                    template(&t)
                }
            };
            fields.push((leak(name), template));
            if is_shown {
                shown += 1;
            }
        }
    }
    Ok(Model {
        kind,
        fields,
        shown,
    })
}

fn template(t: &str) -> Template {
    if let Some(slot) = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix("[]}"))
        .filter(|s| !s.contains(['{', '}']))
    {
        return Template::Args(slot.to_string());
    }
    let mut pieces = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        pieces.push(Piece::Slot(rest[start + 1..start + len].to_string()));
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Template::Text(pieces)
}

fn scalar(node: Option<&Yaml>) -> Option<String> {
    match node? {
        Yaml::Value(Scalar::String(s)) => Some(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Some(i.to_string()),
        Yaml::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        Yaml::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        Yaml::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

/// What one program is known to do (`programs.yml`).
#[derive(Debug, Default)]
pub struct Program {
    /// Processes it starts: image and command-line template (`{args}`).
    pub starts: Vec<(String, String)>,
    /// Modules it always loads.
    pub loads: Vec<String>,
    /// Modules it loads when its command line holds a text.
    pub loads_if: Vec<(String, Vec<String>)>,
    /// Whether a URL in its arguments is fetched.
    pub network: bool,
    /// Files it writes.
    pub writes: Vec<String>,
    /// Processes it opens when its command line holds a text.
    pub opens_if: Vec<(String, Access)>,
    /// It writes the file its arguments name with this extension (a dump).
    pub writes_argument: Option<String>,
    /// It writes the file named by each of these options (lower case, as `/out:`).
    pub writes_option: Vec<String>,
    /// Registry keys whose default value it runs as a command, when the test set one.
    pub runs_registered: Vec<String>,
    /// It elevates itself without asking (auto-elevation): it and the processes it starts
    /// run at High integrity.
    pub elevates: bool,
}

/// A process another one opens (Sysmon's process access event).
#[derive(Debug, Default)]
pub struct Access {
    /// The opened process's image.
    pub target: String,
    /// The access mask asked for.
    pub access: String,
    /// The call stack of the open, as Sysmon writes it.
    pub call_trace: String,
}

/// `programs.yml`, read.
#[derive(Debug, Default)]
pub struct Programs {
    /// By lower-case file name.
    pub programs: HashMap<String, Program>,
    /// COM class (lower case) to the program it starts.
    pub com: HashMap<String, String>,
    /// Programs a default Windows installation has on its search path (lower case, with
    /// their extension): a bare name outside this list may be a function of code the
    /// script loads at run time.
    pub installed: HashSet<String>,
    /// PowerShell modules whose import compiles C#, by the noun prefix of their functions
    /// (as written) to the module's name.
    pub compiling_modules: Vec<(String, String)>,
    /// Settings a service stores for a cmdlet, by the cmdlet's lower-case name.
    pub settings: HashMap<String, Setting>,
}

/// Settings a service keeps in the registry for the cmdlet that changes them.
#[derive(Debug, Default)]
pub struct Setting {
    /// The WMI class (lower case) whose `Add` method changes the same settings.
    pub wmi_class: Option<String>,
    /// The service's program, which writes the values.
    pub writer: String,
    /// The data of each value written (a DWORD).
    pub data: String,
    /// Parameter name to the key its items become value names under.
    pub keys: Vec<(String, String)>,
}

/// The known programs.
pub fn programs() -> &'static Programs {
    static READ: OnceLock<Programs> = OnceLock::new();
    READ.get_or_init(|| {
        parse_programs(include_str!("programs.yml")).unwrap_or_else(|e| panic!("programs.yml: {e}"))
    })
}

fn list(node: Option<&Yaml>) -> Vec<String> {
    match node {
        Some(Yaml::Sequence(s)) => s.iter().filter_map(|x| scalar(Some(x))).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

fn parse_programs(text: &str) -> Result<Programs, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    let doc = docs.first().ok_or("empty")?;
    let mut out = Programs::default();
    if let Some(Yaml::Mapping(map)) = doc.as_mapping_get("programs") {
        for (k, v) in map {
            let name = scalar(Some(k)).ok_or("a program name that is not text")?;
            let mut p = Program {
                loads: list(v.as_mapping_get("loads")),
                writes: list(v.as_mapping_get("writes")),
                runs_registered: list(v.as_mapping_get("runs_registered")),
                writes_option: list(v.as_mapping_get("writes_option"))
                    .into_iter()
                    .map(|o| o.to_ascii_lowercase())
                    .collect(),
                elevates: v
                    .as_mapping_get("elevates")
                    .and_then(Yaml::as_bool)
                    .unwrap_or(false),
                network: v
                    .as_mapping_get("network")
                    .and_then(Yaml::as_bool)
                    .unwrap_or(false),
                ..Program::default()
            };
            if let Some(Yaml::Sequence(starts)) = v.as_mapping_get("starts") {
                for s in starts {
                    let image =
                        scalar(s.as_mapping_get("image")).ok_or("`starts` needs `image`")?;
                    let line = scalar(s.as_mapping_get("command_line"))
                        .ok_or("`starts` needs `command_line`")?;
                    p.starts.push((image, line));
                }
            }
            if let Some(Yaml::Sequence(conds)) = v.as_mapping_get("loads_if") {
                for c in conds {
                    let contains = scalar(c.as_mapping_get("contains"))
                        .ok_or("`loads_if` needs `contains`")?;
                    p.loads_if.push((
                        contains.to_ascii_lowercase(),
                        list(c.as_mapping_get("loads")),
                    ));
                }
            }
            if let Some(Yaml::Sequence(conds)) = v.as_mapping_get("opens_if") {
                for c in conds {
                    let field = |f: &str| {
                        scalar(c.as_mapping_get(f)).ok_or(format!("`opens_if` needs `{f}`"))
                    };
                    p.opens_if.push((
                        field("contains")?.to_ascii_lowercase(),
                        Access {
                            target: field("target")?,
                            access: field("access")?,
                            call_trace: field("call_trace")?,
                        },
                    ));
                }
            }
            p.writes_argument =
                scalar(v.as_mapping_get("writes_argument")).map(|e| e.to_ascii_lowercase());
            out.programs.insert(name.to_ascii_lowercase(), p);
        }
    }
    out.installed = list(doc.as_mapping_get("installed"))
        .into_iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if let Some(Yaml::Mapping(map)) = doc.as_mapping_get("modules") {
        for (k, v) in map {
            let name = scalar(Some(k)).ok_or("a module name that is not text")?;
            let prefix = scalar(v.as_mapping_get("prefix")).ok_or("a module needs `prefix`")?;
            if v.as_mapping_get("compiles").and_then(Yaml::as_bool) == Some(true) {
                out.compiling_modules.push((prefix, name));
            }
        }
    }
    if let Some(Yaml::Mapping(map)) = doc.as_mapping_get("settings") {
        for (k, v) in map {
            let name = scalar(Some(k)).ok_or("a cmdlet name that is not text")?;
            let mut keys = Vec::new();
            if let Some(Yaml::Mapping(m)) = v.as_mapping_get("keys") {
                for (param, key) in m {
                    keys.push((
                        scalar(Some(param)).ok_or("a parameter name that is not text")?,
                        scalar(Some(key)).ok_or("a key that is not text")?,
                    ));
                }
            }
            out.settings.insert(
                name.to_ascii_lowercase(),
                Setting {
                    wmi_class: scalar(v.as_mapping_get("wmi_class"))
                        .map(|c| c.to_ascii_lowercase()),
                    writer: scalar(v.as_mapping_get("writer")).ok_or("a setting needs `writer`")?,
                    data: scalar(v.as_mapping_get("data")).unwrap_or_else(|| "0".into()),
                    keys,
                },
            );
        }
    }
    if let Some(Yaml::Mapping(map)) = doc.as_mapping_get("com") {
        for (k, v) in map {
            if let (Some(k), Some(v)) = (scalar(Some(k)), scalar(Some(v))) {
                out.com.insert(k.to_ascii_lowercase(), v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_reads_and_fills_its_slots() {
        assert_eq!(models().len(), MODELS.len());
        let mut slots = Slots::new();
        slots.insert("image", r"C:\x\reg.exe".into());
        slots.insert("command_line", r#"reg add "HKCU\A B" /f"#.into());
        let ev = model("process_creation").event(&slots);
        assert_eq!(ev.kind, "process_creation");
        assert!(ev.fields.contains(&("EventID", SimValue::Int(1))));
        assert!(
            ev.fields
                .contains(&("Image", SimValue::Str(r"C:\x\reg.exe".into())))
        );
        // Fields whose slots are missing are left out.
        assert!(!ev.fields.iter().any(|(n, _)| *n == "ParentImage"));
        assert!(ev.fields.contains(&(
            "process.args",
            SimValue::List(vec![
                "reg".into(),
                "add".into(),
                r"HKCU\A B".into(),
                "/f".into()
            ])
        )));
        assert_eq!(model("registry_set").slots_of("TargetObject"), ["target"]);
    }

    #[test]
    fn programs_read() {
        let p = programs();
        assert!(p.programs["net.exe"].starts[0].0.ends_with("net1.exe"));
        assert!(p.com.contains_key("word.application"));
        let (needle, access) = &p.programs["procdump.exe"].opens_if[0];
        assert_eq!(needle, "lsass");
        assert!(access.target.ends_with(r"\lsass.exe"));
        assert_eq!(
            p.programs["procdump.exe"].writes_argument.as_deref(),
            Some(".dmp")
        );
    }
}
