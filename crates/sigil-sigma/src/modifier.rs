//! Sigma value modifiers (`field|contains|all: ...`).
//!
//! Each modifier documents itself in [`Modifier::doc`], so `sigil check --list-modifiers`
//! style listings and the docs are generated from this file. The names and the rules
//! about which chains are valid follow pySigma (`sigma/modifiers.py`), the reference
//! implementation, so a rule sigil accepts is one pySigma accepts and vice versa.

/// A value modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
    /// `all`
    All,
    /// `exists`
    Exists,
    /// `cased`
    Cased,
    /// `neq`
    Neq,
    /// `windash`
    Windash,
    /// `re`
    Re,
    /// `i` / `ignorecase`
    ReIgnoreCase,
    /// `m` / `multiline`
    ReMultiLine,
    /// `s` / `dotall`
    ReDotAll,
    /// `base64`
    Base64,
    /// `base64offset`
    Base64Offset,
    /// `utf16le` / `wide`
    Utf16Le,
    /// `utf16be`
    Utf16Be,
    /// `utf16`
    Utf16,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `minute`
    Minute,
    /// `hour`
    Hour,
    /// `day`
    Day,
    /// `week`
    Week,
    /// `month`
    Month,
    /// `year`
    Year,
    /// `cidr`
    Cidr,
    /// `expand`
    Expand,
    /// `fieldref`
    FieldRef,
}

/// Every modifier, in documentation order.
pub const ALL_MODIFIERS: [Modifier; 30] = [
    Modifier::Contains,
    Modifier::StartsWith,
    Modifier::EndsWith,
    Modifier::All,
    Modifier::Exists,
    Modifier::Cased,
    Modifier::Neq,
    Modifier::Windash,
    Modifier::Re,
    Modifier::ReIgnoreCase,
    Modifier::ReMultiLine,
    Modifier::ReDotAll,
    Modifier::Base64,
    Modifier::Base64Offset,
    Modifier::Utf16Le,
    Modifier::Utf16Be,
    Modifier::Utf16,
    Modifier::Lt,
    Modifier::Lte,
    Modifier::Gt,
    Modifier::Gte,
    Modifier::Minute,
    Modifier::Hour,
    Modifier::Day,
    Modifier::Week,
    Modifier::Month,
    Modifier::Year,
    Modifier::Cidr,
    Modifier::Expand,
    Modifier::FieldRef,
];

impl Modifier {
    /// The modifier named `name` (pySigma's aliases included: `wide`, `ignorecase`,
    /// `multiline`, `dotall`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "neq" => Modifier::Neq,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::ReIgnoreCase,
            "m" | "multiline" => Modifier::ReMultiLine,
            "s" | "dotall" => Modifier::ReDotAll,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            "cidr" => Modifier::Cidr,
            "expand" => Modifier::Expand,
            "fieldref" => Modifier::FieldRef,
            _ => return None,
        })
    }

    /// The modifier a misspelled name most likely meant (`endwith` → `endswith`,
    /// `Contains` → `contains`), as the quick fix of `unknown-modifier` offers it.
    pub fn closest(name: &str) -> Option<&'static str> {
        let names = ALL_MODIFIERS
            .iter()
            .flat_map(|m| std::iter::once(m.name()).chain(m.aliases().iter().copied()));
        crate::lint::fix::closest(name, names)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Modifier::Contains => "contains",
            Modifier::StartsWith => "startswith",
            Modifier::EndsWith => "endswith",
            Modifier::All => "all",
            Modifier::Exists => "exists",
            Modifier::Cased => "cased",
            Modifier::Neq => "neq",
            Modifier::Windash => "windash",
            Modifier::Re => "re",
            Modifier::ReIgnoreCase => "i",
            Modifier::ReMultiLine => "m",
            Modifier::ReDotAll => "s",
            Modifier::Base64 => "base64",
            Modifier::Base64Offset => "base64offset",
            Modifier::Utf16Le => "utf16le",
            Modifier::Utf16Be => "utf16be",
            Modifier::Utf16 => "utf16",
            Modifier::Lt => "lt",
            Modifier::Lte => "lte",
            Modifier::Gt => "gt",
            Modifier::Gte => "gte",
            Modifier::Minute => "minute",
            Modifier::Hour => "hour",
            Modifier::Day => "day",
            Modifier::Week => "week",
            Modifier::Month => "month",
            Modifier::Year => "year",
            Modifier::Cidr => "cidr",
            Modifier::Expand => "expand",
            Modifier::FieldRef => "fieldref",
        }
    }

    /// Other names accepted for the modifier.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Modifier::ReIgnoreCase => &["ignorecase"],
            Modifier::ReMultiLine => &["multiline"],
            Modifier::ReDotAll => &["dotall"],
            Modifier::Utf16Le => &["wide"],
            _ => &[],
        }
    }

    /// What the modifier does and how sigil lowers it into the IR.
    pub fn doc(self) -> &'static str {
        match self {
            Modifier::Contains => {
                "The value matches anywhere in the field (`Op::Contains`). After `re` it changes \
                 nothing: sigil's regular expressions are unanchored already. After `fieldref` \
                 the other field's value must occur inside this one."
            }
            Modifier::StartsWith => {
                "The field starts with the value (`Op::StartsWith`); with `endswith` too it \
                 becomes `contains`."
            }
            Modifier::EndsWith => "The field ends with the value (`Op::EndsWith`).",
            Modifier::All => {
                "All values of the list must match instead of any (`Flags::all`). With a single \
                 value it changes nothing; `sigil check` warns, as the specification forbids it."
            }
            Modifier::Exists => {
                "`field|exists: true` holds when the field is present, `false` when it is absent \
                 (`Op::Exists`). Must be the first modifier, on a field, with a boolean."
            }
            Modifier::Cased => {
                "Compare case-sensitively (`Flags::cased`); Sigma is case-insensitive."
            }
            Modifier::Neq => {
                "Negates the item. On a plain value it is `Op::NotEquals`; combined with another \
                 operator (`neq|contains`) the predicate is wrapped in `Not`."
            }
            Modifier::Windash => {
                "A `-` or `/` starting a word also matches `/`, `-`, en dash, em dash and \
                 horizontal bar (`Flags::windash`)."
            }
            Modifier::Re => {
                "The value is a regular expression (`Op::Regex`, unanchored). Must be the first \
                 modifier."
            }
            Modifier::ReIgnoreCase => "Regular-expression flag `i`: ignore case. Needs `re` first.",
            Modifier::ReMultiLine => {
                "Regular-expression flag `m`: `^` and `$` match at line ends. Needs `re` first."
            }
            Modifier::ReDotAll => {
                "Regular-expression flag `s`: `.` matches newlines. Needs `re` first."
            }
            Modifier::Base64 => {
                "Match the base64 encoding of the value. The value must hold no wildcard, so it \
                 must come before `contains`/`startswith`/`endswith`."
            }
            Modifier::Base64Offset => {
                "Match the value base64-encoded at any of the three byte alignments, as it \
                 appears inside a longer base64 text. Usually followed by `contains`."
            }
            Modifier::Utf16Le => "Encode the value as UTF-16 little endian (`wide` is the same).",
            Modifier::Utf16Be => "Encode the value as UTF-16 big endian.",
            Modifier::Utf16 => "Encode the value as UTF-16 little endian with a byte-order mark.",
            Modifier::Lt => "The field is a number less than the value (`Op::Lt`).",
            Modifier::Lte => "The field is a number less than or equal to the value (`Op::Lte`).",
            Modifier::Gt => "The field is a number greater than the value (`Op::Gt`).",
            Modifier::Gte => {
                "The field is a number greater than or equal to the value (`Op::Gte`)."
            }
            Modifier::Minute => "Compare the minute (0-59) of a timestamp field with a number.",
            Modifier::Hour => "Compare the hour (0-23) of a timestamp field with a number.",
            Modifier::Day => {
                "Compare the day of the month (1-31) of a timestamp field with a number."
            }
            Modifier::Week => "Compare the ISO week (1-53) of a timestamp field with a number.",
            Modifier::Month => "Compare the month (1-12) of a timestamp field with a number.",
            Modifier::Year => "Compare the year of a timestamp field with a number.",
            Modifier::Cidr => {
                "The field is an IP address inside the IPv4 or IPv6 network given as value \
                 (`Op::Cidr`). Must be the first modifier; nothing but `all`/`neq` may follow."
            }
            Modifier::Expand => {
                "`%name%` in the value is a placeholder a pipeline fills in (`Flags::expand`, \
                 `Piece::Placeholder`)."
            }
            Modifier::FieldRef => {
                "The value names another field of the same event whose value is compared \
                 (`Value::FieldRef`). May be followed by `contains`, `startswith`, `endswith`."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in ALL_MODIFIERS {
            assert_eq!(Modifier::from_name(m.name()), Some(m));
            for a in m.aliases() {
                assert_eq!(Modifier::from_name(a), Some(m));
            }
            assert!(!m.doc().is_empty());
        }
        assert_eq!(Modifier::from_name("wide"), Some(Modifier::Utf16Le));
        assert_eq!(Modifier::from_name("contain"), None);
    }
}
