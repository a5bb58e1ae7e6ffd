//! Table, origin, action and message-prefix filters, with wal2json's list
//! syntax: comma-separated tokens, whitespace around them ignored, a backslash
//! makes the next character literal while splitting.

/// C's `isspace` in the "C" locale.
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits a list value into raw tokens (backslashes kept). An empty or blank
/// value is an empty list. `allow_empty_tokens` is wal2json's origin-list
/// behaviour (an empty token is accepted there). Returns None on a syntax error:
/// an empty token, text after a token other than `,`, or a trailing backslash
/// (wal2json 2.5 reads past the end of the string there; 2.7 rejects it).
pub fn split_list(value: &[u8], allow_empty_tokens: bool) -> Option<Vec<Vec<u8>>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < value.len() && is_space(value[i]) {
        i += 1;
    }
    if i == value.len() {
        return Some(tokens);
    }
    loop {
        let start = i;
        while i < value.len() && value[i] != b',' && !is_space(value[i]) {
            if value[i] == b'\\' {
                i += 1;
                if i == value.len() {
                    return None;
                }
            }
            i += 1;
        }
        let end = i;
        if start == end && !allow_empty_tokens {
            return None;
        }
        while i < value.len() && is_space(value[i]) {
            i += 1;
        }
        let done = if i == value.len() {
            true
        } else if value[i] == b',' {
            i += 1;
            while i < value.len() && is_space(value[i]) {
                i += 1;
            }
            false
        } else {
            return None;
        };
        tokens.push(value[start..end].to_vec());
        if done {
            return Some(tokens);
        }
    }
}

/// One `schema.table` pattern of `filter-tables` / `add-tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    /// None means any schema (`*.`).
    pub schema: Option<Vec<u8>>,
    /// None means any table (`.*`).
    pub table: Option<Vec<u8>>,
}

impl TablePattern {
    pub fn matches(&self, schema: &[u8], table: &[u8]) -> bool {
        self.schema.as_deref().is_none_or(|s| s == schema) && self.table.as_deref().is_none_or(|t| t == table)
    }
}

/// Parses one raw token into a pattern. The wildcards are recognised before
/// unescaping (so `\*` is a literal star); the schema ends at the first
/// unescaped dot; every backslash then escapes the character after it.
fn parse_table_token(tok: &[u8]) -> Option<TablePattern> {
    let any_schema = tok.len() >= 2 && tok[0] == b'*' && tok[1] == b'.';
    let (schema, used) = unescape(tok, Some(b'.'))?;
    if used == tok.len() {
        return None; // no schema separator
    }
    let rest = &tok[used + 1..];
    let any_table = rest == b"*";
    let (table, _) = unescape(rest, None)?;
    Some(TablePattern {
        schema: if any_schema { None } else { Some(schema) },
        table: if any_table { None } else { Some(table) },
    })
}

/// Removes the backslash escapes of `s` up to the first unescaped `stop`
/// byte (or the end). Returns the text and where it stopped; None when `s`
/// ends with a lone backslash.
fn unescape(s: &[u8], stop: Option<u8>) -> Option<(Vec<u8>, usize)> {
    let mut text = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() && Some(s[i]) != stop {
        if s[i] == b'\\' {
            i += 1;
            if i == s.len() {
                return None;
            }
        }
        text.push(s[i]);
        i += 1;
    }
    Some((text, i))
}

/// Parses a whole `filter-tables` / `add-tables` value.
pub fn parse_table_list(value: &[u8]) -> Option<Vec<TablePattern>> {
    split_list(value, false)?.iter().map(|t| parse_table_token(t)).collect()
}

/// Parses `filter-origins`: like wal2json, each token is read with C's `atoi`
/// (leading whitespace, optional sign, digits; anything else stops it, so a
/// non-number becomes 0, which never matches since local changes are never
/// filtered).
pub fn parse_origin_list(value: &[u8]) -> Option<Vec<u32>> {
    Some(split_list(value, true)?.iter().map(|t| atoi(t) as u32).collect())
}

fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = (v * 10 + (s[i] - b'0') as i64) & 0xffff_ffff;
        i += 1;
    }
    let v = v as u32 as i32;
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// The table filters of one decoding session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableFilter {
    pub filter: Vec<TablePattern>,
    /// None: all tables (the default). Some(empty): no table at all.
    pub add: Option<Vec<TablePattern>>,
}

impl TableFilter {
    /// True when changes of this table are emitted.
    pub fn wants(&self, schema: &[u8], table: &[u8]) -> bool {
        if self.filter.iter().any(|p| p.matches(schema, table)) {
            return false;
        }
        match &self.add {
            None => true,
            Some(list) => list.iter().any(|p| p.matches(schema, table)),
        }
    }
}

/// Message prefix filters: exact byte comparison with the stored tokens (in
/// which, as in wal2json, backslashes are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixFilter {
    pub filter: Vec<Vec<u8>>,
    pub add: Vec<Vec<u8>>,
}

impl PrefixFilter {
    pub fn wants(&self, prefix: &[u8]) -> bool {
        if self.filter.iter().any(|p| p == prefix) {
            return false;
        }
        self.add.is_empty() || self.add.iter().any(|p| p == prefix)
    }
}

/// Which change kinds are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actions {
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

impl Actions {
    /// No action at all (the start of a list that adds them).
    pub const NONE: Actions = Actions { insert: false, update: false, delete: false, truncate: false };

    /// True when changes of this kind are emitted.
    pub fn wants(&self, kind: crate::format::ChangeKind) -> bool {
        match kind {
            crate::format::ChangeKind::Insert => self.insert,
            crate::format::ChangeKind::Update => self.update,
            crate::format::ChangeKind::Delete => self.delete,
        }
    }
}

impl Default for Actions {
    fn default() -> Self {
        Actions { insert: true, update: true, delete: true, truncate: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(v: &str) -> Option<Vec<String>> {
        split_list(v.as_bytes(), false).map(|t| t.into_iter().map(|x| String::from_utf8(x).unwrap()).collect())
    }

    #[test]
    fn splitting() {
        assert_eq!(toks(""), Some(vec![]));
        assert_eq!(toks("   "), Some(vec![]));
        assert_eq!(toks(" a , b,c "), Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(toks("a\\,b"), Some(vec!["a\\,b".into()]));
        assert_eq!(toks("a\\ b"), Some(vec!["a\\ b".into()]));
        assert_eq!(toks("a,,b"), None);
        assert_eq!(toks("a,"), None);
        assert_eq!(toks("a b"), None);
        assert_eq!(toks("a\\"), None);
        assert_eq!(split_list(b"1,,2", true).unwrap().len(), 3);
    }

    fn pat(s: Option<&str>, t: Option<&str>) -> TablePattern {
        TablePattern { schema: s.map(|x| x.as_bytes().to_vec()), table: t.map(|x| x.as_bytes().to_vec()) }
    }

    #[test]
    fn wal2json_filtertable_example() {
        let v = "   foo.bar,*.filter_table_1  ,filter_schema_2.* , public.filter_table_3 , public.Filter_table_5, public.filter\\ table_6, public.filter\\.table_7 , public.filter\\,table_8 , public.filter\"table_9, *.\\ filter_table_10 , public.\\* , \\*.filter_table_0  ";
        let l = parse_table_list(v.as_bytes()).unwrap();
        assert_eq!(
            l,
            vec![
                pat(Some("foo"), Some("bar")),
                pat(None, Some("filter_table_1")),
                pat(Some("filter_schema_2"), None),
                pat(Some("public"), Some("filter_table_3")),
                pat(Some("public"), Some("Filter_table_5")),
                pat(Some("public"), Some("filter table_6")),
                pat(Some("public"), Some("filter.table_7")),
                pat(Some("public"), Some("filter,table_8")),
                pat(Some("public"), Some("filter\"table_9")),
                pat(None, Some(" filter_table_10")),
                pat(Some("public"), Some("*")),
                pat(Some("*"), Some("filter_table_0")),
            ]
        );
        let f = TableFilter { filter: l, add: None };
        assert!(!f.wants(b"public", b"filter.table_7"));
        assert!(!f.wants(b"filter_schema_2", b"anything"));
        assert!(!f.wants(b"x", b"filter_table_1"));
        assert!(f.wants(b"public", b"filter_table_4"));
        assert!(f.wants(b"public", b"filter_table_5"));
    }

    #[test]
    fn escaped_everything_like_supabase() {
        let l = parse_table_list(b"\\p\\u\\b\\l\\i\\c.\\t\\o\\d\\o\\s").unwrap();
        assert_eq!(l, vec![pat(Some("public"), Some("todos"))]);
        let l = parse_table_list(b"a\\.b.c").unwrap();
        assert_eq!(l, vec![pat(Some("a.b"), Some("c"))]);
    }

    #[test]
    fn bad_tables() {
        assert!(parse_table_list(b"nodot").is_none());
        assert!(parse_table_list(b"public.t\\").is_none());
        assert!(parse_table_list(b"a.b,").is_none());
        assert!(parse_table_list(b"a\\.b").is_none());
        assert_eq!(parse_table_list(b".").unwrap(), vec![pat(Some(""), Some(""))]);
    }

    #[test]
    fn add_tables_semantics() {
        let all = TableFilter::default();
        assert!(all.wants(b"a", b"b"));
        let none = TableFilter { filter: vec![], add: Some(vec![]) };
        assert!(!none.wants(b"a", b"b"));
        let some = TableFilter { filter: vec![pat(Some("s"), Some("x"))], add: Some(vec![pat(Some("s"), None)]) };
        assert!(some.wants(b"s", b"y"));
        assert!(!some.wants(b"s", b"x"));
        assert!(!some.wants(b"t", b"y"));
    }

    #[test]
    fn origins_and_prefixes() {
        assert_eq!(parse_origin_list(b" 1, 22 ,abc, -1").unwrap(), vec![1, 22, 0, u32::MAX]);
        assert_eq!(parse_origin_list(b"").unwrap(), Vec::<u32>::new());
        let p = PrefixFilter { filter: vec![b"x".to_vec()], add: vec![] };
        assert!(p.wants(b"y") && !p.wants(b"x"));
        let p = PrefixFilter { filter: vec![b"x".to_vec()], add: vec![b"y".to_vec()] };
        assert!(p.wants(b"y") && !p.wants(b"z") && !p.wants(b"x"));
    }
}
