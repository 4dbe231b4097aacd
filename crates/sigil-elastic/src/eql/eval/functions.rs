//! EQL functions (`startsWith`, `between`, `cidrMatch`, `arraySearch`, ...).

use serde_json::Value as Json;

use super::expr::Cx;
use super::value::{arith, from_f64, text, truthy, wildcard_match};
use crate::eql::ast::{ArithOp, Expr, FieldPart};

impl Cx<'_> {
    /// Calls the function `name` on `args` evaluated over `ev`.
    #[allow(clippy::many_single_char_names)]
    pub(super) fn call(&mut self, name: &str, insensitive: bool, args: &[Expr], ev: &Json) -> Json {
        let lower = name.to_ascii_lowercase();
        // Functions that bind a variable evaluate their body per element.
        if matches!(lower.as_str(), "arraysearch" | "arraycount") {
            let (Some(arr), Some(var), Some(body)) = (args.first(), args.get(1), args.get(2))
            else {
                return Json::Null;
            };
            let Json::Array(items) = self.eval(arr, ev) else {
                return if lower == "arraycount" {
                    Json::from(0)
                } else {
                    Json::Bool(false)
                };
            };
            let Some(FieldPart::Name(var)) = var.as_field().and_then(|f| f.parts.first()) else {
                return Json::Null;
            };
            let mut count = 0u64;
            for item in items {
                self.vars.push((var.clone(), item));
                let hit = truthy(&self.eval(body, ev)) == Some(true);
                self.vars.pop();
                if hit {
                    count += 1;
                    if lower == "arraysearch" {
                        return Json::Bool(true);
                    }
                }
            }
            return if lower == "arraycount" {
                Json::from(count)
            } else {
                Json::Bool(false)
            };
        }
        let vals: Vec<Json> = args.iter().map(|a| self.eval(a, ev)).collect();
        let fold = insensitive || self.fold();
        let s = |k: usize| vals.get(k).map(text);
        let first_null = vals.first().is_none_or(Json::is_null);
        match lower.as_str() {
            "add" | "subtract" | "multiply" | "divide" | "modulo" => {
                let op = match lower.as_str() {
                    "add" => ArithOp::Add,
                    "subtract" => ArithOp::Sub,
                    "multiply" => ArithOp::Mul,
                    "divide" => ArithOp::Div,
                    _ => ArithOp::Mod,
                };
                match (vals.first(), vals.get(1)) {
                    (Some(a), Some(b)) => arith(op, a, b),
                    _ => Json::Null,
                }
            }
            "length" => match vals.first() {
                Some(Json::String(x)) => Json::from(x.chars().count()),
                Some(Json::Array(a)) => Json::from(a.len()),
                Some(Json::Object(m)) => Json::from(m.len()),
                _ => Json::Null,
            },
            "concat" => Json::String(vals.iter().map(text).collect()),
            "string" => vals.first().map_or(Json::Null, |v| match v {
                Json::Null => Json::Null,
                other => Json::String(text(other)),
            }),
            "number" => {
                let Some(t) = s(0).filter(|_| !first_null) else {
                    return Json::Null;
                };
                let base = vals.get(1).and_then(Json::as_u64).unwrap_or(10) as u32;
                let t = t.trim();
                if base == 10 {
                    t.parse::<i64>()
                        .map(Json::from)
                        .or_else(|_| t.parse::<f64>().map(from_f64))
                        .unwrap_or(Json::Null)
                } else {
                    let t = t.trim_start_matches("0x").trim_start_matches("0X");
                    i64::from_str_radix(t, base).map_or(Json::Null, Json::from)
                }
            }
            "startswith" | "endswith" | "stringcontains" => {
                if first_null {
                    return Json::Null;
                }
                let hay = s(0).unwrap_or_default();
                let hay = if fold { hay.to_lowercase() } else { hay };
                let hit = vals[1..].iter().any(|n| {
                    let n = if fold {
                        text(n).to_lowercase()
                    } else {
                        text(n)
                    };
                    match lower.as_str() {
                        "startswith" => hay.starts_with(&n),
                        "endswith" => hay.ends_with(&n),
                        _ => hay.contains(&n),
                    }
                });
                Json::Bool(hit)
            }
            "indexof" => {
                if first_null {
                    return Json::Null;
                }
                let (hay, needle) = (s(0).unwrap_or_default(), s(1).unwrap_or_default());
                let (hay, needle) = if fold {
                    (hay.to_lowercase(), needle.to_lowercase())
                } else {
                    (hay, needle)
                };
                let start = vals.get(2).and_then(Json::as_u64).unwrap_or(0) as usize;
                let chars: Vec<char> = hay.chars().collect();
                if start > chars.len() {
                    return Json::Null;
                }
                let rest: String = chars[start..].iter().collect();
                rest.find(&needle).map_or(Json::Null, |b| {
                    Json::from(start + rest[..b].chars().count())
                })
            }
            "substring" => {
                if first_null {
                    return Json::Null;
                }
                let chars: Vec<char> = s(0).unwrap_or_default().chars().collect();
                let n = chars.len() as i64;
                let idx = |v: Option<&Json>, default: i64| -> usize {
                    let k = v.and_then(Json::as_i64).unwrap_or(default);
                    let k = if k < 0 { (n + k).max(0) } else { k.min(n) };
                    k as usize
                };
                let (a, b) = (idx(vals.get(1), 0), idx(vals.get(2), n));
                Json::String(if a < b {
                    chars[a..b].iter().collect()
                } else {
                    String::new()
                })
            }
            "between" => {
                if first_null {
                    return Json::Null;
                }
                let src = s(0).unwrap_or_default();
                let (left, right) = (s(1).unwrap_or_default(), s(2).unwrap_or_default());
                let greedy = vals.get(3).and_then(Json::as_bool).unwrap_or(false);
                let cfold = vals.get(4).and_then(Json::as_bool).unwrap_or(false) || fold;
                let hay = if cfold {
                    src.to_lowercase()
                } else {
                    src.clone()
                };
                let (l, r) = if cfold {
                    (left.to_lowercase(), right.to_lowercase())
                } else {
                    (left, right)
                };
                // Lower-casing can change byte lengths; work on the folded text only
                // when it kept them.
                let base = if hay.len() == src.len() { &src } else { &hay };
                let Some(a) = hay.find(&l).map(|p| p + l.len()) else {
                    return Json::String(String::new());
                };
                let rest = &hay[a..];
                let b = if greedy {
                    rest.rfind(&r)
                } else {
                    rest.find(&r)
                };
                match b {
                    Some(b) => Json::String(base[a..a + b].to_string()),
                    None => Json::String(String::new()),
                }
            }
            "wildcard" => {
                if first_null {
                    return Json::Null;
                }
                let v = s(0).unwrap_or_default();
                Json::Bool(vals[1..].iter().any(|p| wildcard_match(&text(p), &v, fold)))
            }
            "match" | "matchlite" => {
                if first_null {
                    return Json::Null;
                }
                let v = s(0).unwrap_or_default();
                let pats: Vec<String> = vals[1..].iter().map(text).collect();
                Json::Bool(pats.iter().any(|p| self.regex_match(p, &v, fold)))
            }
            "cidrmatch" => {
                let Some(ip) = s(0).and_then(|t| t.parse::<std::net::IpAddr>().ok()) else {
                    return Json::Null;
                };
                Json::Bool(vals[1..].iter().any(|c| {
                    text(c)
                        .parse::<ipnet::IpNet>()
                        .is_ok_and(|n| n.contains(&ip))
                }))
            }
            "arraycontains" => match vals.first() {
                Some(Json::Array(a)) => Json::Bool(
                    vals[1..]
                        .iter()
                        .any(|w| a.iter().any(|x| self.equal(x, w, fold))),
                ),
                _ => Json::Null,
            },
            "safe" => vals.into_iter().next().unwrap_or(Json::Null),
            _ => Json::Null,
        }
    }
}
