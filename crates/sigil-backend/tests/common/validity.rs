//! A syntax check for filter languages that have no offline parser (SentinelOne
//! PowerQuery, Cortex XDR XQL, ...): strings are read with the language's quoting rules,
//! then the tokens must form a boolean expression of comparisons
//! (`operand [not] OPERATOR operand|(list)`) joined by `and` / `or` / `not` and
//! parentheses. It catches what breaks a query: a string ended early by an unescaped quote,
//! an operator without operands, unbalanced parentheses, two operands in a row.

/// How a language writes strings and which words are comparison operators.
#[derive(Debug, Clone, Copy)]
pub struct Lexical {
    /// The string quote.
    pub quote: char,
    /// A backslash escapes the next character inside strings.
    pub backslash_escapes: bool,
    /// `"""..."""` strings (with backslash escapes) exist besides plain ones.
    pub triple: bool,
    /// Comparison operators (words or symbols), lower case.
    pub operators: &'static [&'static str],
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str,
    Word(String),
    Open,
    Close,
    Comma,
}

/// Characters of comparison operators.
const SYMBOLS: &str = "=<>!~";

fn lex(q: &str, lx: &Lexical) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == lx.quote {
            let triple = lx.triple && chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
            let (escapes, width) = if triple {
                (true, 3)
            } else {
                (lx.backslash_escapes, 1)
            };
            i += width;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err("a string is not closed".into());
                };
                if escapes && d == '\\' {
                    i += 2;
                } else if d == c && (width == 1 || chars[i..].starts_with(&[c, c, c])) {
                    i += width;
                    break;
                } else {
                    i += 1;
                }
            }
            if chars
                .get(i)
                .is_some_and(|d| !d.is_whitespace() && !"(),".contains(*d) && !SYMBOLS.contains(*d))
            {
                return Err("a string is followed by text without a space".into());
            }
            out.push(Tok::Str);
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if SYMBOLS.contains(c) {
            // Comparison symbols stand alone even when written without spaces (`a="x"`).
            let start = i;
            while i < chars.len() && SYMBOLS.contains(chars[i]) {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect::<String>()));
        } else {
            let start = i;
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !"(),".contains(chars[i])
                && !SYMBOLS.contains(chars[i])
                && chars[i] != lx.quote
            {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect::<String>()));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    lx: &'a Lexical,
}

impl Parser<'_> {
    fn peek_word(&self) -> Option<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn is_op(&self, w: &str) -> bool {
        self.lx.operators.contains(&w)
    }

    fn expr(&mut self) -> Result<(), String> {
        self.unary()?;
        while let Some(w) = self.peek_word() {
            if w != "and" && w != "or" {
                break;
            }
            self.pos += 1;
            self.unary()?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), String> {
        if self.peek_word().as_deref() == Some("not") {
            self.pos += 1;
            return self.unary();
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            self.expr()?;
            return self.close();
        }
        self.comparison()
    }

    fn close(&mut self) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&Tok::Close) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("`)` expected at token {}", self.pos))
        }
    }

    fn operand(&mut self) -> Result<(), String> {
        match self.toks.get(self.pos) {
            Some(Tok::Str) => {
                self.pos += 1;
                Ok(())
            }
            Some(Tok::Word(w)) => {
                let w = w.to_ascii_lowercase();
                if ["and", "or", "not"].contains(&w.as_str()) || self.is_op(&w) {
                    return Err(format!("an operand expected, `{w}` found"));
                }
                self.pos += 1;
                // A function call: `name(args)`.
                if self.toks.get(self.pos) == Some(&Tok::Open) {
                    self.pos += 1;
                    self.list()?;
                    self.close()?;
                }
                Ok(())
            }
            other => Err(format!("an operand expected, {other:?} found")),
        }
    }

    fn list(&mut self) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&Tok::Close) {
            return Ok(());
        }
        self.operand()?;
        while self.toks.get(self.pos) == Some(&Tok::Comma) {
            self.pos += 1;
            self.operand()?;
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<(), String> {
        self.operand()?;
        let negated = self.peek_word().as_deref() == Some("not")
            && self
                .toks
                .get(self.pos + 1)
                .is_some_and(|t| matches!(t, Tok::Word(w) if self.is_op(&w.to_ascii_lowercase())));
        if negated {
            self.pos += 1;
        }
        match self.peek_word() {
            Some(w) if self.is_op(&w) => {
                self.pos += 1;
                if self.toks.get(self.pos) == Some(&Tok::Open) {
                    self.pos += 1;
                    self.list()?;
                    self.close()
                } else {
                    self.operand()
                }
            }
            // A bare operand (a keyword search) is a condition of its own.
            _ => Ok(()),
        }
    }
}

/// Checks that `q` is a well-formed filter expression of the language.
pub fn check(q: &str, lx: &Lexical) -> Result<(), String> {
    let toks = lex(q, lx)?;
    let mut p = Parser { toks, pos: 0, lx };
    p.expr()?;
    if p.pos == p.toks.len() {
        Ok(())
    } else {
        Err(format!("unexpected {:?} at token {}", p.toks[p.pos], p.pos))
    }
}

/// SentinelOne PowerQuery filters.
pub const POWERQUERY: Lexical = Lexical {
    quote: '"',
    backslash_escapes: true,
    triple: false,
    operators: &[
        "=",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "contains",
        "contains:matchcase",
        "matches",
        "in",
    ],
};

/// Cortex XDR XQL filters.
pub const XQL: Lexical = Lexical {
    quote: '"',
    backslash_escapes: false,
    triple: true,
    operators: &[
        "=", "!=", "<", "<=", ">", ">=", "contains", "~=", "in", "incidr", "incidr6",
    ],
};

/// Checks a Lucene-style query (Carbon Black's search syntax): terms `field:value` or
/// `value`, with `-` for `not`, `AND` / `OR` or a space, parentheses, `"..."` phrases and
/// `[a TO b]` ranges. A query-syntax character that is not escaped where a term needs it to
/// be (`[eE]`, `a|b`, `x/y` in a value) is an error, as it is for Lucene's parser.
pub fn check_lucene(q: &str) -> Result<(), String> {
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    let mut depth = 0i32;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                depth += 1;
                i += 1;
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced `)`".into());
                }
                i += 1;
            }
            _ => i = lucene_term(&chars, i)?,
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err("unbalanced `(`".into())
    }
}

/// Reads one term from `start`; returns where it ends.
fn lucene_term(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start;
    if chars[i] == '-' {
        i += 1;
        if chars.get(i) == Some(&'(') {
            return Ok(i);
        }
    }
    let value_start = i;
    let mut seen_colon = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => i += 2,
            '"' if i == value_start || chars[i - 1] == ':' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                if i >= chars.len() {
                    return Err("a phrase is not closed".into());
                }
                i += 1;
            }
            '[' | '{' if seen_colon && chars[i - 1] == ':' => {
                let close = chars[i..]
                    .iter()
                    .position(|d| *d == ']' || *d == '}')
                    .ok_or("a range is not closed")?;
                let inner: String = chars[i + 1..i + close].iter().collect();
                if inner.split_whitespace().nth(1) != Some("TO") {
                    return Err(format!("`{inner}` is not a range"));
                }
                i += close + 1;
            }
            ':' if !seen_colon => {
                seen_colon = true;
                i += 1;
                if chars.get(i).is_none_or(|d| d.is_whitespace() || *d == ')') {
                    return Err("a field without a value".into());
                }
            }
            c if c.is_whitespace() || c == '(' || c == ')' => break,
            '[' | ']' | '{' | '}' | '"' | '^' | '~' | '/' | '!' | '+' | ':' => {
                return Err(format!("unescaped `{c}` in a term"));
            }
            _ => i += 1,
        }
    }
    Ok(i)
}

/// Checks a LogScale (CQL) filter: terms `field=value`, `field!=value`, `field<n` ...,
/// where a value is a word, a `"..."` string or a `/.../flags` regex, bare strings and
/// regexes, `not`, `or`, a space for `and`, parentheses, and `| function(...)` stages. A regex
/// ended early by an unescaped `/` (text right after its closing slash) is an error, as it is
/// for LogScale's parser.
pub fn check_logscale(q: &str) -> Result<(), String> {
    let mut stages = split_stages(q)?.into_iter();
    let filter = stages.next().unwrap_or_default();
    let chars: Vec<char> = filter.chars().collect();
    let mut i = 0;
    let mut depth = 0i32;
    let mut expect_operand = true;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                depth += 1;
                expect_operand = true;
                i += 1;
            }
            ')' => {
                if expect_operand {
                    return Err("an operand expected before `)`".into());
                }
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced `)`".into());
                }
                i += 1;
            }
            _ => {
                let start = i;
                let word_end = chars[i..]
                    .iter()
                    .position(|d| d.is_whitespace() || *d == '(' || *d == ')')
                    .map_or(chars.len(), |n| i + n);
                let word: String = chars[start..word_end].iter().collect();
                if word == "or" {
                    if expect_operand {
                        return Err("`or` without a left operand".into());
                    }
                    expect_operand = true;
                    i = word_end;
                    continue;
                }
                if word == "not" {
                    expect_operand = true;
                    i = word_end;
                    continue;
                }
                i = logscale_term(&chars, i)?;
                expect_operand = false;
            }
        }
    }
    if depth != 0 {
        return Err("unbalanced `(`".into());
    }
    if expect_operand && !chars.iter().all(|c| c.is_whitespace()) {
        return Err("the query ends without an operand".into());
    }
    for stage in stages {
        let stage = stage.trim();
        let open = stage.find('(').ok_or("a stage without a call")?;
        let name = stage[..open].trim_start_matches('!');
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            return Err(format!("`{name}` is not a function name"));
        }
        if !stage.ends_with(')') {
            return Err("a stage is not closed".into());
        }
    }
    Ok(())
}

/// The query split at `|` outside strings, regexes and parentheses.
fn split_stages(query: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = query.chars().collect();
    let mut stages = vec![String::new()];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '|' {
            stages.push(String::new());
            i += 1;
            continue;
        }
        // A slash starts a regex where a value or a term starts.
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let delim = match c {
            '"' => Some('"'),
            '/' if prev.is_none_or(|p| p.is_whitespace() || "=(!,<>".contains(p)) => Some('/'),
            _ => None,
        };
        let end = match delim {
            Some(close) => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != close {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                if j >= chars.len() {
                    return Err(format!(
                        "a {} is not closed",
                        if close == '"' { "string" } else { "regex" }
                    ));
                }
                j + 1
            }
            None => i + 1,
        };
        let last = stages.last_mut().ok_or("no stage")?;
        last.extend(&chars[i..end.min(chars.len())]);
        i = end;
    }
    Ok(stages)
}

/// Reads one LogScale term from `start`; returns where it ends.
fn logscale_term(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start;
    // A field name: a quoted name, or characters up to the comparison.
    if chars[i] == '"' && chars[i + 1..].contains(&'"') {
        let mut j = i + 1;
        while j < chars.len() && chars[j] != '"' {
            j += if chars[j] == '\\' { 2 } else { 1 };
        }
        if chars
            .get(j + 1)
            .is_some_and(|c| matches!(c, '=' | '!' | '<' | '>'))
        {
            i = j + 1;
        }
    } else if chars[i] != '/' {
        while i < chars.len() && !matches!(chars[i], '=' | '!' | '<' | '>') {
            if chars[i].is_whitespace() || chars[i] == '(' || chars[i] == ')' {
                return Err(format!(
                    "a term without a comparison: `{}`",
                    chars[start..i].iter().collect::<String>()
                ));
            }
            i += 1;
        }
        if i == start {
            return Err("a comparison without a field".into());
        }
    }
    while i < chars.len() && matches!(chars[i], '=' | '!' | '<' | '>') {
        i += 1;
    }
    let value_end = match chars.get(i) {
        Some('/') => {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '/' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            if j >= chars.len() {
                return Err("a regex is not closed".into());
            }
            j += 1;
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                j += 1;
            }
            j
        }
        Some('"') => {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            if j >= chars.len() {
                return Err("a string is not closed".into());
            }
            j + 1
        }
        Some(c) if !c.is_whitespace() && *c != ')' => {
            let mut j = i;
            while j < chars.len() && !chars[j].is_whitespace() && chars[j] != ')' {
                if matches!(chars[j], '"' | '/' | '(') {
                    return Err(format!("unexpected `{}` in a value", chars[j]));
                }
                j += 1;
            }
            j
        }
        _ => return Err("a comparison without a value".into()),
    };
    if chars
        .get(value_end)
        .is_some_and(|c| !c.is_whitespace() && *c != ')')
    {
        return Err(format!(
            "text right after a value: `{}`",
            chars[start..(value_end + 1).min(chars.len())]
                .iter()
                .collect::<String>()
        ));
    }
    Ok(value_end)
}

/// IBM QRadar AQL `WHERE` expressions, once [`check_aql`] has simplified them.
pub const AQL: Lexical = Lexical {
    quote: '\'',
    backslash_escapes: false,
    triple: false,
    operators: &[
        "=", "!=", "<>", "<", "<=", ">", ">=", "like", "ilike", "matches", "imatches", "in", "is",
    ],
};

/// Checks a QRadar AQL query: `SELECT ... FROM events|flows WHERE condition`, the condition
/// with `'...'` strings (`''` inside), `"..."` property names, calls (`LOWER(x)`,
/// `INCIDR('net', field)`) and `IS [NOT] NULL`. Strings and quoted names are read with
/// AQL's rules first, then the condition must be a boolean expression of comparisons.
pub fn check_aql(q: &str) -> Result<(), String> {
    let rest = q.strip_prefix("SELECT ").ok_or("no `SELECT`")?;
    let (_, rest) = rest.split_once(" FROM ").ok_or("no `FROM`")?;
    let (table, condition) = rest.split_once(" WHERE ").ok_or("no `WHERE`")?;
    if table != "events" && table != "flows" {
        return Err(format!("unknown table `{table}`"));
    }
    let chars: Vec<char> = condition.chars().collect();
    let mut simple = String::with_capacity(condition.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\'' => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a string is not closed".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => i += 2,
                        Some('\'') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                simple.push_str("'s'");
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '"')
                    .ok_or("a quoted name is not closed")?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                simple.push_str(&name.replace(char::is_whitespace, "_"));
                i += end + 2;
            }
            c => {
                simple.push(c);
                i += 1;
            }
        }
    }
    check(&simple.replace(" IS NOT NULL", " IS NOTNULL"), &AQL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_broken_strings_and_bare_operators() {
        assert!(check(r#"a contains "x" and (b in ("*y*", "z"))"#, &XQL).is_ok());
        assert!(check(r#"a contains "x",run""#, &XQL).is_err());
        assert!(check(r#"a = ""C:\x" -p" or b = 1"#, &XQL).is_err());
        assert!(check("x = 1 and contains and y = 2", &XQL).is_err());
        assert!(check(r#"a = """\"q\" \\""" "#, &XQL).is_ok());
        assert!(check(r#"a matches "\"x\\" "#, &POWERQUERY).is_ok());
        assert!(check(r#"a matches "x\\"")"#, &POWERQUERY).is_err());
        assert!(check(r#"not (a = *) and b not contains "*""#, &XQL).is_ok());
        assert!(check_lucene(r"(a:b\ c OR -d:e*) f:[3 TO *] -(g:\[x\])").is_ok());
        assert!(check_lucene(r"a:\\s-[eE]nc\\s").is_err());
        assert!(check_lucene(r"a:x/y").is_err());
        assert!(check_lucene(r#""chmod\ 777" OR x"#).is_ok());
        assert!(
            check_logscale(
                r#"a=/x\/y/i not (b=1 or "c d"=/^e$/) /kw/i | cidr(f, subnet="10.0.0.0/8")"#
            )
            .is_ok()
        );
        assert!(check_logscale(r"a=/[^/]{100,}$/").is_err());
        assert!(check_logscale(r"a=/x/i or").is_err());
        assert!(check_logscale("a=/x/i (b=1").is_err());
    }
}
