//! Matching analysed full text as Elasticsearch does for `text` and `match_only_text`
//! fields.
//!
//! Elasticsearch splits such a field into words (its standard analyser: Unicode word
//! boundaries, lower-cased) and a query on it is a phrase: `field:"New-MailboxExportRequest"`
//! matches `New-MailboxExportRequest -Mailbox bob`, because the words `new`,
//! `mailboxexportrequest` occur there one after the other. An unquoted wildcard applies to
//! one word.
//!
//! Everything that converts such a predicate goes through [`phrase_regex`]: the phrase as
//! a case-insensitive regular expression over the field's text, its words separated by
//! runs of non-word characters and bounded by word boundaries. The hunting engine compares
//! the words of [`split`] one by one instead, with the same result. It differs from
//! the analyser in one way, on the side of matching more: the analyser keeps `.` and `'`
//! between letters inside a word (`cmd.exe` is one word), where the expression accepts any
//! separator between `cmd` and `exe`.

use crate::{Pattern, Piece};

/// The words of a value as the analyser would split it, each a run of literal word
/// characters and wildcards. A wildcard next to a separator belongs to the word beside it.
pub fn split(pattern: &Pattern) -> Vec<Vec<Piece>> {
    let mut words: Vec<Vec<Piece>> = Vec::new();
    let mut cur: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let flush_lit = |lit: &mut String, cur: &mut Vec<Piece>| {
        if !lit.is_empty() {
            cur.push(Piece::Lit(std::mem::take(lit)));
        }
    };
    for piece in pattern.pieces() {
        match piece {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if is_word_char(c) {
                        lit.push(c);
                    } else {
                        flush_lit(&mut lit, &mut cur);
                        if !cur.is_empty() {
                            words.push(std::mem::take(&mut cur));
                        }
                    }
                }
            }
            Piece::AnyMany | Piece::AnyOne => {
                flush_lit(&mut lit, &mut cur);
                cur.push(piece.clone());
            }
            // A placeholder is a pipeline's to expand before anything matches; as text it
            // is no word.
            Piece::Placeholder(_) => {}
        }
    }
    flush_lit(&mut lit, &mut cur);
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether the analyser keeps `c` inside a word.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The phrase as a regular expression (Rust `regex` syntax, also read by PCRE, RE2, Java
/// and .NET): `(?i)\bnew\W+mailboxexportrequest\b`. A value without any word matches
/// nothing, as the analysed query would.
pub fn phrase_regex(pattern: &Pattern) -> String {
    let words = split(pattern);
    if words
        .iter()
        .all(|w| w.iter().all(|p| !matches!(p, Piece::Lit(_))))
    {
        // No literal word: an empty phrase (matches nothing) or wildcards only (any word).
        return if words.is_empty() {
            "[^\\s\\S]".to_string()
        } else {
            "\\w".to_string()
        };
    }
    let mut out = String::from("(?i)\\b");
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push_str("\\W+");
        }
        for piece in word {
            match piece {
                Piece::Lit(s) => out.push_str(&regex_escape(s)),
                Piece::AnyMany => out.push_str("\\w*"),
                Piece::AnyOne => out.push_str("\\w"),
                Piece::Placeholder(_) => {}
            }
        }
    }
    out.push_str("\\b");
    out
}

/// The phrase in Lucene's regular-expression syntax (Elasticsearch's `regexp`, EQL's
/// `regex`, ES|QL's `RLIKE`), which matches the whole value and has neither `\b` nor
/// `\W` nor inline flags: `(.*[^a-zA-Z0-9_])?new[^a-zA-Z0-9_]+mailboxexportrequest([^a-zA-Z0-9_].*)?`.
/// Word characters are the ASCII ones there. With `fold_case`, every ASCII letter is a
/// class of both cases (`[nN]`), for engines without a case-insensitive regex operator.
pub fn phrase_lucene_regex(pattern: &Pattern, fold_case: bool) -> String {
    const WORD: &str = "[a-zA-Z0-9_]";
    const SEP: &str = "[^a-zA-Z0-9_]";
    let words = split(pattern);
    if words.is_empty() {
        // No word: matches nothing, as the analysed query would.
        return "#".to_string();
    }
    let mut out = format!("(.*{SEP})?");
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(SEP);
            out.push('+');
        }
        for piece in word {
            match piece {
                Piece::Lit(s) => {
                    for c in s.chars() {
                        if fold_case && c.is_ascii_alphabetic() {
                            out.push('[');
                            out.push(c.to_ascii_lowercase());
                            out.push(c.to_ascii_uppercase());
                            out.push(']');
                        } else {
                            out.push(c);
                        }
                    }
                }
                Piece::AnyMany => {
                    out.push_str(WORD);
                    out.push('*');
                }
                Piece::AnyOne => out.push_str(WORD),
                Piece::Placeholder(_) => {}
            }
        }
    }
    out.push('(');
    out.push_str(SEP);
    out.push_str(".*)?");
    out
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !c.is_alphanumeric() && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(text: &str) -> String {
        phrase_regex(&Pattern::parse_sigma(text, false))
    }

    #[test]
    fn a_phrase_is_its_words_in_order() {
        assert_eq!(
            re("New-MailboxExportRequest"),
            "(?i)\\bNew\\W+MailboxExportRequest\\b"
        );
        assert_eq!(re("  cmd.exe "), "(?i)\\bcmd\\W+exe\\b");
        assert_eq!(re("foo_bar1"), "(?i)\\bfoo_bar1\\b");
    }

    #[test]
    fn wildcards_stay_within_a_word() {
        assert_eq!(re("*Mailbox*"), "(?i)\\b\\w*Mailbox\\w*\\b");
        assert_eq!(re("Get-?tem"), "(?i)\\bGet\\W+\\wtem\\b");
    }

    #[test]
    fn lucene_regexes_match_whole_values() {
        let p = Pattern::parse_sigma("New-Mailbox*", false);
        assert_eq!(
            phrase_lucene_regex(&p, false),
            "(.*[^a-zA-Z0-9_])?New[^a-zA-Z0-9_]+Mailbox[a-zA-Z0-9_]*([^a-zA-Z0-9_].*)?"
        );
        let p = Pattern::parse_sigma("ab1", false);
        assert_eq!(
            phrase_lucene_regex(&p, true),
            "(.*[^a-zA-Z0-9_])?[aA][bB]1([^a-zA-Z0-9_].*)?"
        );
    }

    #[test]
    fn no_word_matches_nothing_or_any_word() {
        assert_eq!(re("--"), "[^\\s\\S]");
        assert_eq!(re("*"), "\\w");
    }
}
