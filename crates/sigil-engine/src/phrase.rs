//! Phrases of words over analysed full text (an Elastic rule's `text` field, see
//! [`sigil_core::words`]), matched on the event's folded text word by word.
//!
//! The phrase means what [`sigil_core::words::phrase_regex`] writes for the converters,
//! `(?i)\bnew\W+mailboxexportrequest\b`: its words, each a whole word of the text (a `*`
//! or `?` inside one stands for word characters), one after the other. It is not matched
//! with that expression because a Unicode word boundary makes the `regex` crate build a
//! one-pass DFA of up to a megabyte per expression, and Elastic's PowerShell rules hold
//! hundreds of phrases: a word-by-word comparison needs no memory at all. Word
//! characters are [`sigil_core::words::is_word_char`]'s (letters, digits, `_`), the
//! analyser's, and case is folded as everywhere in the engine ([`crate::fold`]).

use sigil_core::{Pattern, Piece, words};

use crate::fold::fold;

/// One piece of a word of the phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WordPiece {
    /// Folded word characters.
    Lit(Box<str>),
    /// `*`: any run of word characters.
    Many,
    /// `?`: one word character.
    One,
}

/// A compiled phrase.
#[derive(Debug, Clone)]
pub(crate) enum Phrase {
    /// No word at all: matches nothing, as the analysed query would.
    Nothing,
    /// Wildcards only: any text with a word.
    AnyWord,
    /// Words that must follow one another.
    Words(Box<[Box<[WordPiece]>]>),
}

impl Phrase {
    pub(crate) fn compile(pattern: &Pattern) -> Self {
        let split = words::split(pattern);
        if split.is_empty() {
            return Phrase::Nothing;
        }
        if split
            .iter()
            .all(|w| w.iter().all(|p| !matches!(p, Piece::Lit(_))))
        {
            return Phrase::AnyWord;
        }
        Phrase::Words(
            split
                .iter()
                .map(|w| {
                    w.iter()
                        .filter_map(|p| match p {
                            Piece::Lit(s) => Some(WordPiece::Lit(fold(s).into())),
                            Piece::AnyMany => Some(WordPiece::Many),
                            Piece::AnyOne => Some(WordPiece::One),
                            Piece::Placeholder(_) => None,
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// Whether the phrase occurs in `text`, which must be folded.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let words = match self {
            Phrase::Nothing => return false,
            Phrase::AnyWord => return text.chars().any(words::is_word_char),
            Phrase::Words(w) => w,
        };
        let Some(first) = words.first() else {
            return false;
        };
        let mut starts = WordIter { rest: text };
        while let Some(word) = starts.next() {
            if !word_matches(first, word) {
                continue;
            }
            let mut next = WordIter { rest: starts.rest };
            if words[1..]
                .iter()
                .all(|w| next.next().is_some_and(|t| word_matches(w, t)))
            {
                return true;
            }
        }
        false
    }
}

/// The words of a text: maximal runs of word characters, in order.
struct WordIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for WordIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.rest.find(words::is_word_char)?;
        let tail = &self.rest[start..];
        let end = tail
            .find(|c: char| !words::is_word_char(c))
            .unwrap_or(tail.len());
        self.rest = &tail[end..];
        Some(&tail[..end])
    }
}

/// Whether the whole `word` (word characters only) matches the word pattern.
fn word_matches(pattern: &[WordPiece], word: &str) -> bool {
    match pattern {
        [] => word.is_empty(),
        [WordPiece::Lit(s), rest @ ..] => word
            .strip_prefix(&**s)
            .is_some_and(|w| word_matches(rest, w)),
        [WordPiece::One, rest @ ..] => {
            let mut chars = word.chars();
            chars.next().is_some() && word_matches(rest, chars.as_str())
        }
        [WordPiece::Many, rest @ ..] => {
            if rest.is_empty() {
                return true;
            }
            // Every split point of the word, shortest run first.
            let mut w = word;
            loop {
                if word_matches(rest, w) {
                    return true;
                }
                let mut chars = w.chars();
                if chars.next().is_none() {
                    return false;
                }
                w = chars.as_str();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(phrase: &str, text: &str) -> bool {
        Phrase::compile(&Pattern::parse_sigma(phrase, false)).is_match(&fold(text))
    }

    /// The expression the converters write for the phrase, as the reference.
    fn by_regex(phrase: &str, text: &str) -> bool {
        let src = words::phrase_regex(&Pattern::parse_sigma(phrase, false));
        regex::Regex::new(&src).unwrap().is_match(text)
    }

    #[test]
    fn a_phrase_is_whole_words_in_order() {
        assert!(matches(
            "New-MailboxExportRequest",
            "new-mailboxexportrequest -x"
        ));
        assert!(matches(
            "New-MailboxExportRequest",
            "x NEW  MailboxExportRequest"
        ));
        assert!(!matches(
            "New-MailboxExportRequest",
            "NewMailboxExportRequest"
        ));
        assert!(!matches(
            "New-MailboxExportRequest",
            "New-MailboxExportRequests"
        ));
        assert!(!matches(
            "New-MailboxExportRequest",
            "ANew-MailboxExportRequest"
        ));
        assert!(!matches(
            "New-MailboxExportRequest",
            "New x MailboxExportRequest"
        ));
        assert!(matches("cmd.exe", "run cmd exe now"));
        assert!(!matches("-", "anything"));
        assert!(matches("*", "a"));
        assert!(!matches("*", " - "));
    }

    #[test]
    fn wildcards_stay_within_a_word() {
        assert!(matches("*Mailbox*", "New-MailboxExport"));
        assert!(!matches("*Mailbox*", "Mail-box"));
        assert!(matches("Get-?tem", "get-Item"));
        assert!(!matches("Get-?tem", "get-tem"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(matches("Invoke-*Shell", "x Invoke-ReverseShell y"));
        assert!(!matches("Invoke-*Shell", "Invoke-Reverse Shell"));
    }

    #[test]
    fn the_same_as_the_converters_expression() {
        let phrases = [
            "New-MailboxExportRequest",
            "*Mailbox*",
            "Get-?tem",
            "a*b*c",
            "Invoke-*Shell",
            "* foo",
            "foo *",
            "[Reflection.Assembly]::Load",
            "Élodie-Straße",
        ];
        let texts = [
            "new-mailboxexportrequest -x",
            "NewMailboxExportRequest",
            "get-Item; get-tem",
            "axxbyyc abc ab-c",
            "Invoke-ReverseShell Invoke-Reverse Shell",
            "  foo",
            "x foo",
            "foo ",
            "foo bar",
            "[reflection.assembly]::load($b)",
            "élodie straße",
            "ÉLODIE-STRASSE",
            "",
        ];
        for p in phrases {
            for t in texts {
                assert_eq!(matches(p, t), by_regex(p, t), "{p:?} on {t:?}");
            }
        }
    }
}
