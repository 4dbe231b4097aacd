//! Transformations that change what a value matches rather than what it is called, for
//! engines whose fields hold something else than the rule's log does:
//!
//! - `wildcard_to_cidr`: an address field that is indexed as an address, not text, takes a
//!   prefix such as `10.*` only as the network it names (`10.0.0.0/8`);
//! - `substring_match`: a field that holds a whole message (a URL, a script block, an
//!   audit record) is searched for the value anywhere in it;
//! - `field_name_in_value`: a field that is one part of such a message (auditd's `a0`, the
//!   first argument) is searched as the part's name followed by its value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use sigil_core::{Expr, Op, Pattern, Piece, Predicate, Value};

use crate::value_rewrite::{restore_op, with_op_wildcards};

/// `wildcard_to_cidr`: every string value with wildcards becomes the network its prefix
/// names. `Ok(None)` leaves the predicate as it is (no value has wildcards); `Err` says why
/// a value names no network (a leading wildcard, a wildcard inside the address, text that
/// is not an address prefix).
pub(crate) fn wildcard_to_cidr(pred: &Predicate) -> Result<Option<Expr>, String> {
    let field = pred.field.as_deref().unwrap_or("keyword");
    let mut any = false;
    let mut values = Vec::with_capacity(pred.values.len());
    for v in &pred.values {
        match v {
            Value::Str(p) => {
                let view = with_op_wildcards(pred.op, p);
                if view.has_wildcards() {
                    any = true;
                    values.push(Value::Cidr(prefix_network(field, &view)?));
                } else {
                    values.push(v.clone());
                }
            }
            other => values.push(other.clone()),
        }
    }
    if !any {
        return Ok(None);
    }
    if values.iter().all(|v| matches!(v, Value::Cidr(_))) {
        let mut out = pred.clone();
        out.op = Op::Cidr;
        out.values = values;
        return Ok(Some(Expr::Pred(out)));
    }
    // Networks beside exact addresses: one predicate per value, in the rule's order.
    let parts = values
        .into_iter()
        .zip(&pred.values)
        .map(|(new, old)| {
            let mut one = pred.clone();
            if matches!(new, Value::Cidr(_)) {
                one.op = Op::Cidr;
                one.values = vec![new];
            } else {
                one.values = vec![old.clone()];
            }
            Expr::Pred(one)
        })
        .collect();
    Ok(Some(if pred.flags.all {
        Expr::And(parts)
    } else {
        Expr::Or(parts)
    }))
}

/// The network an address prefix with a trailing wildcard names: the missing parts of the
/// address range over every value (`192.168.*` is `192.168.0.0` to `192.168.255.255`), and
/// the network is the largest one starting at the lowest address within that range.
fn prefix_network(field: &str, p: &Pattern) -> Result<IpNet, String> {
    let pieces = p.pieces();
    if matches!(pieces.first(), Some(Piece::AnyMany | Piece::AnyOne)) {
        return Err(format!(
            "`{field}` holds addresses: a value with a leading wildcard (`{}`) names no network; write a prefix such as `10.*`",
            p.to_sigma()
        ));
    }
    let body = match pieces.last() {
        Some(Piece::AnyMany) => Pattern::from_pieces(pieces[..pieces.len() - 1].iter().cloned()),
        _ => p.clone(),
    };
    let no_network = || {
        format!(
            "`{field}` holds addresses: `{}` is not an address prefix followed by `*`",
            p.to_sigma()
        )
    };
    let text = body.as_literal().ok_or_else(no_network)?;
    let (low, high) = if text.contains(':')
        || (text.chars().any(|c| c.is_ascii_alphabetic())
            && text.chars().all(|c| c.is_ascii_hexdigit()))
    {
        ipv6_range(text).ok_or_else(no_network)?
    } else {
        ipv4_range(text).ok_or_else(no_network)?
    };
    largest_network_from(low, high).ok_or_else(no_network)
}

/// The lowest and highest IPv4 address whose dotted text starts with the octets given.
fn ipv4_range(text: &str) -> Option<(IpAddr, IpAddr)> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 || parts.iter().any(|s| s.len() > 3) {
        return None;
    }
    let mut low = [0u8; 4];
    let mut high = [255u8; 4];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let octet: u8 = part.parse().ok()?;
        low[i] = octet;
        high[i] = octet;
    }
    Some((
        IpAddr::V4(Ipv4Addr::from(low)),
        IpAddr::V4(Ipv4Addr::from(high)),
    ))
}

/// The lowest and highest IPv6 address whose groups start with the groups given (a `::`
/// is expanded first).
fn ipv6_range(text: &str) -> Option<(IpAddr, IpAddr)> {
    let groups: Vec<String> = if text.contains("::") {
        let addr: Ipv6Addr = text.parse().ok()?;
        addr.segments().iter().map(|g| format!("{g:x}")).collect()
    } else {
        text.split(':').map(str::to_string).collect()
    };
    if groups.len() > 8 {
        return None;
    }
    let mut low = [0u16; 8];
    let mut high = [0xffffu16; 8];
    for (i, g) in groups.iter().enumerate() {
        if g.is_empty() {
            continue;
        }
        let v = u16::from_str_radix(g, 16).ok()?;
        low[i] = v;
        high[i] = v;
    }
    Some((
        IpAddr::V6(Ipv6Addr::from(low)),
        IpAddr::V6(Ipv6Addr::from(high)),
    ))
}

/// The largest network whose first address is `low` and whose last is at most `high`.
fn largest_network_from(low: IpAddr, high: IpAddr) -> Option<IpNet> {
    let max = match low {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    (0..=max).find_map(|len| {
        let net = IpNet::new(low, len).ok()?;
        (net.network() == low && net.broadcast() <= high).then_some(net)
    })
}

/// `substring_match`: string values become substring matches (`contains`) and numbers their
/// decimal text matched as a substring; other values (regular expressions, networks, null)
/// are left alone. Returns whether the predicate changed.
pub(crate) fn substring_match(pred: &mut Predicate) -> bool {
    let shaped = matches!(
        pred.op,
        Op::Equals | Op::Contains | Op::StartsWith | Op::EndsWith
    );
    let already = pred.op == Op::Contains && pred.values.iter().all(|v| matches!(v, Value::Str(_)));
    if !shaped || already {
        return false;
    }
    let mut patterns = Vec::with_capacity(pred.values.len());
    for v in &mut pred.values {
        let view = match v {
            Value::Str(p) => with_op_wildcards(pred.op, p),
            Value::Int(_) | Value::Float(_) => Pattern::literal(v.to_text()),
            _ => continue,
        };
        *v = Value::Str(Pattern::default());
        patterns.push(view.with_leading_any().with_trailing_any());
    }
    pred.op = Op::Contains;
    restore_op(pred, patterns);
    true
}

/// `field_name_in_value`: every string value becomes the field's name, `separator` (read as
/// Sigma syntax, so `*` is a wildcard) and the value, without doubling a leading wildcard.
/// Returns whether the predicate changed.
pub(crate) fn field_name_in_value(
    pred: &mut Predicate,
    separator: &Pattern,
    numbers_only: bool,
) -> bool {
    let Some(field) = pred.field.clone() else {
        return false;
    };
    if !matches!(
        pred.op,
        Op::Equals | Op::Contains | Op::StartsWith | Op::EndsWith
    ) {
        return false;
    }
    let digits = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_digit() || c == '%' || c == '\'')
    };
    let mut patterns = Vec::new();
    for v in &mut pred.values {
        if numbers_only {
            match v {
                Value::Int(_) | Value::Float(_) => *v = Value::Str(Pattern::literal(v.to_text())),
                Value::Str(p)
                    if with_op_wildcards(pred.op, p)
                        .as_literal()
                        .is_some_and(digits) => {}
                _ => {
                    if let Value::Str(p) = v {
                        patterns.push(with_op_wildcards(pred.op, p));
                    }
                    continue;
                }
            }
        }
        if let Value::Str(p) = v {
            let view = with_op_wildcards(pred.op, p);
            let mut pieces = vec![Piece::Lit(field.clone())];
            let starts_any = matches!(view.pieces().first(), Some(Piece::AnyMany));
            if !(starts_any && separator.pieces() == [Piece::AnyMany]) {
                pieces.extend(separator.pieces().iter().cloned());
            }
            pieces.extend(view.pieces().iter().cloned());
            patterns.push(Pattern::from_pieces(pieces));
        }
    }
    if patterns.is_empty() {
        return false;
    }
    restore_op(pred, patterns);
    true
}

/// The value types `value_type_failure` knows.
pub(crate) const VALUE_TYPES: &[&str] = &["null", "bool", "regex", "cidr", "compare"];

/// Whether `pred` has a value of one of `types` (see [`VALUE_TYPES`]).
pub(crate) fn has_value_type(pred: &Predicate, types: &[String]) -> bool {
    let wants = |t: &str| types.iter().any(|x| x == t);
    if wants("compare") && matches!(pred.op, Op::Lt | Op::Lte | Op::Gt | Op::Gte) {
        return true;
    }
    pred.values.iter().any(|v| match v {
        Value::Null => wants("null"),
        Value::Str(p) => {
            let text = with_op_wildcards(pred.op, p).to_sigma();
            (wants("null") && text.is_empty())
                || (wants("bool") && (text == "true" || text == "false"))
        }
        Value::Bool(_) => wants("bool"),
        Value::Regex(_) => wants("regex"),
        Value::Cidr(_) => wants("cidr"),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(field: &str, op: Op, values: &[&str]) -> Predicate {
        Predicate::new(
            Some(field.to_string()),
            op,
            values
                .iter()
                .map(|v| Value::Str(Pattern::parse_sigma(v, false)))
                .collect(),
        )
    }

    fn nets(e: &Expr) -> Vec<String> {
        let mut out = Vec::new();
        for p in e.predicates() {
            for v in &p.values {
                out.push(v.to_text());
            }
        }
        out
    }

    #[test]
    fn address_prefixes_become_networks() {
        let p = pred(
            "ip",
            Op::StartsWith,
            &[
                "10.",
                "192.168.",
                "172.16.",
                "127.0.0.1",
                "10",
                "fe80:",
                "fe80::",
            ],
        );
        let e = wildcard_to_cidr(&p).expect("networks").expect("changed");
        assert_eq!(
            nets(&e),
            [
                "10.0.0.0/8",
                "192.168.0.0/16",
                "172.16.0.0/16",
                "127.0.0.1/32",
                "10.0.0.0/8",
                "fe80::/16",
                "fe80::/128"
            ]
        );
        assert!(matches!(&e, Expr::Pred(p) if p.op == Op::Cidr));
    }

    #[test]
    fn exact_addresses_stay_beside_networks() {
        let p = pred("ip", Op::Equals, &["1.2.3.4", "10.*"]);
        let e = wildcard_to_cidr(&p).expect("networks").expect("changed");
        let Expr::Or(parts) = &e else {
            panic!("an or: {e:?}")
        };
        assert_eq!(nets(&e), ["1.2.3.4", "10.0.0.0/8"]);
        assert!(matches!(&parts[0], Expr::Pred(p) if p.op == Op::Equals));
        assert!(
            wildcard_to_cidr(&pred("ip", Op::Equals, &["1.2.3.4"]))
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn suffixes_and_inner_wildcards_name_no_network() {
        for (op, v) in [
            (Op::EndsWith, ".1"),
            (Op::Contains, "10."),
            (Op::Equals, "10.?.0.*"),
            (Op::StartsWith, "host"),
            (Op::StartsWith, "300."),
        ] {
            assert!(wildcard_to_cidr(&pred("ip", op, &[v])).is_err(), "{v}");
        }
    }

    #[test]
    fn substring_match_widens_every_string_and_number() {
        let mut p = pred("msg", Op::EndsWith, &["Foo", "bar*"]);
        p.values.push(Value::Int(5));
        assert!(substring_match(&mut p));
        assert_eq!(p.op, Op::Contains);
        let texts: Vec<String> = p.values.iter().map(Value::to_text).collect();
        assert_eq!(texts, ["Foo", "bar", "5"]);
        let mut re = Predicate::new(
            Some("msg".into()),
            Op::Regex,
            vec![Value::Regex("a".into())],
        );
        assert!(!substring_match(&mut re));
    }

    #[test]
    fn field_name_goes_in_front_of_the_value() {
        let sep = Pattern::parse_sigma("*", false);
        let mut p = pred("a0", Op::Equals, &["cp", "*x"]);
        assert!(field_name_in_value(&mut p, &sep, false));
        let texts: Vec<String> = p.values.iter().map(Value::to_text).collect();
        assert_eq!(texts, ["a0*cp", "a0*x"]);
        let mut c = pred("a1", Op::Contains, &["x"]);
        assert!(field_name_in_value(&mut c, &sep, false));
        assert_eq!(c.op, Op::Equals);
        assert_eq!(c.values[0].to_text(), "a1*x*");
    }

    #[test]
    fn numbers_only_rewrites_numbers_and_digit_values() {
        let sep = Pattern::parse_sigma("*", false);
        let mut p = pred("Details", Op::Equals, &["abc", "123"]);
        p.values.push(Value::Int(7));
        assert!(field_name_in_value(&mut p, &sep, true));
        let texts: Vec<String> = p.values.iter().map(Value::to_text).collect();
        assert_eq!(texts, ["abc", "Details*123", "Details*7"]);
    }

    #[test]
    fn value_types_are_recognised() {
        let types = |t: &[&str]| t.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert!(has_value_type(
            &pred("f", Op::Equals, &["true"]),
            &types(&["bool"])
        ));
        assert!(has_value_type(
            &pred("f", Op::Equals, &[""]),
            &types(&["null"])
        ));
        assert!(!has_value_type(
            &pred("f", Op::Equals, &["x"]),
            &types(&["null", "bool"])
        ));
        let mut cmp = Predicate::new(Some("f".into()), Op::Gt, vec![Value::Int(3)]);
        assert!(has_value_type(&cmp, &types(&["compare"])));
        cmp.op = Op::Equals;
        assert!(!has_value_type(&cmp, &types(&["compare", "regex"])));
    }
}
