//! Plugin options (the DefElem list) -> validated `Options`.
//!
//! Names, defaults, boolean parsing and error texts follow wal2json so that a
//! consumer can switch plugins without changing anything else. Names spelled
//! with underscores (`include_xids`) are accepted as aliases. Parsing reads
//! each option on its own; what depends on the chosen format is checked in
//! one step afterwards, by that format's constructor (`format::Format::new`).

use crate::filter::{self, is_space, Actions, PrefixFilter, TableFilter};
use crate::format::value::BinaryEncoding;
use crate::format::Version;
use crate::json::MessageContent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub format: Version,
    pub include_transaction: bool,
    pub include_xids: bool,
    pub include_timestamp: bool,
    pub include_origin: bool,
    pub include_schemas: bool,
    pub include_types: bool,
    pub include_type_oids: bool,
    pub include_typmod: bool,
    pub include_domain_data_type: bool,
    pub include_column_positions: bool,
    pub include_not_null: bool,
    pub include_default: bool,
    pub include_pk: bool,
    pub include_lsn: bool,
    pub numeric_data_types_as_string: bool,
    pub pretty_print: bool,
    pub write_in_chunks: bool,
    /// waljson's own: TRUNCATE entries in format version 1 (wal2json drops them).
    pub include_truncate: bool,
    /// waljson's own: how a logical message's payload is written (None:
    /// the format's default).
    pub message_content: Option<MessageContent>,
    /// Format 3: relation records before a relation's first change.
    pub include_relations: bool,
    /// Format 3: how bytea values are written.
    pub binary_encoding: BinaryEncoding,
    /// Format 3: written in place of an unchanged TOAST value (None: the
    /// column is left out and listed in `unchanged_toast`).
    pub unchanged_toast_placeholder: Option<Vec<u8>>,
    /// wal2json 2.7: false suppresses transactions that write nothing.
    pub include_empty_transaction: bool,
    /// wal2json 2.7: a partition's changes are reported as its root's.
    pub partition_root: bool,
    /// test_decoding's `stream-changes`: large transactions are streamed
    /// while in progress (PostgreSQL 14+, formats 2 and 3).
    pub stream_changes: bool,
    /// pgoutput's `publication_names`: what is published is decided by these
    /// publications (None: every table, as in wal2json).
    pub publication_names: Option<Vec<Vec<u8>>>,
    pub actions: Actions,
    pub tables: TableFilter,
    pub prefixes: PrefixFilter,
    pub filter_origins: Vec<u32>,
    /// `waljson.snapshot()` only, format 1: rows per `{"change":[..]}`
    /// document (None: `SNAPSHOT_BATCH_DEFAULT`).
    pub batch_size: Option<u32>,
    /// `waljson.snapshot()` only, format 3: the slot whose stream the
    /// snapshot precedes, printed as `source.name` (as the stream does).
    pub slot_name: Option<Vec<u8>>,
    /// Test builds only: make the change callback panic (proves panics become ERRORs).
    #[cfg(feature = "fault-injection")]
    pub fault_panic_on_change: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: Version::DEFAULT,
            include_transaction: true,
            include_xids: false,
            include_timestamp: false,
            include_origin: false,
            include_schemas: true,
            include_types: true,
            include_type_oids: false,
            include_typmod: true,
            include_domain_data_type: false,
            include_column_positions: false,
            include_not_null: false,
            include_default: false,
            include_pk: false,
            include_lsn: false,
            numeric_data_types_as_string: false,
            pretty_print: false,
            write_in_chunks: false,
            include_truncate: false,
            message_content: None,
            include_relations: true,
            binary_encoding: BinaryEncoding::Hex,
            unchanged_toast_placeholder: None,
            include_empty_transaction: true,
            partition_root: false,
            stream_changes: false,
            publication_names: None,
            actions: Actions::default(),
            tables: TableFilter::default(),
            prefixes: PrefixFilter::default(),
            filter_origins: Vec::new(),
            batch_size: None,
            slot_name: None,
            #[cfg(feature = "fault-injection")]
            fault_panic_on_change: false,
        }
    }
}

/// SQLSTATE classes used for option errors (mapped to PostgreSQL codes by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 22023 invalid_parameter_value
    InvalidParameterValue,
    /// 42602 invalid_name
    InvalidName,
    /// 0A000 feature_not_supported
    FeatureNotSupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl OptionError {
    fn new(kind: ErrorKind, message: String) -> Self {
        OptionError { kind, message, hint: None }
    }
    fn bad_value(name: &str, value: &[u8]) -> Self {
        Self::new(
            ErrorKind::InvalidParameterValue,
            format!("could not parse value \"{}\" for parameter \"{}\"", String::from_utf8_lossy(value), name),
        )
    }
    fn bad_list(name: &str, value: &[u8]) -> Self {
        OptionError { kind: ErrorKind::InvalidName, ..Self::bad_value(name, value) }
    }
}

/// PostgreSQL's `parse_bool`: case-insensitive true/false/yes/no/on/off/1/0
/// and their unique prefixes (`o` alone is ambiguous).
pub fn parse_bool(v: &[u8]) -> Option<bool> {
    let prefix_of = |word: &[u8]| v.len() <= word.len() && word[..v.len()].eq_ignore_ascii_case(v);
    match v.first()?.to_ascii_lowercase() {
        b't' if prefix_of(b"true") => Some(true),
        b'f' if prefix_of(b"false") => Some(false),
        b'y' if prefix_of(b"yes") => Some(true),
        b'n' if prefix_of(b"no") => Some(false),
        b'o' if v.len() >= 2 && prefix_of(b"on") => Some(true),
        b'o' if v.len() >= 2 && prefix_of(b"off") => Some(false),
        b'1' if v.len() == 1 => Some(true),
        b'0' if v.len() == 1 => Some(false),
        _ => None,
    }
}

/// PostgreSQL's `parse_int(value, &result, 0, NULL)` as wal2json uses it for
/// `format-version`: strtol with base 0 (so `0x2` and `02` work), falling back
/// to a decimal float (rounded half to even) when the text continues with `.`,
/// `e` or `E`; trailing whitespace allowed; nothing else.
pub fn parse_int(v: &[u8]) -> Option<i32> {
    let mut i = 0;
    while i < v.len() && is_space(v[i]) {
        i += 1;
    }
    let start = i;
    let mut j = i;
    let neg = match v.get(j) {
        Some(b'-') => {
            j += 1;
            true
        }
        Some(b'+') => {
            j += 1;
            false
        }
        _ => false,
    };
    let (radix, digits_start) = if v.get(j) == Some(&b'0')
        && matches!(v.get(j + 1), Some(b'x') | Some(b'X'))
        && v.get(j + 2).is_some_and(|b| b.is_ascii_hexdigit())
    {
        (16u32, j + 2)
    } else if v.get(j) == Some(&b'0') {
        (8, j)
    } else {
        (10, j)
    };
    let mut k = digits_start;
    let mut value: i128 = 0;
    let mut overflow = false;
    while k < v.len() && (v[k] as char).is_digit(radix) {
        value = value * radix as i128 + (v[k] as char).to_digit(radix).unwrap() as i128;
        if value > i64::MAX as i128 {
            overflow = true;
            value = i64::MAX as i128;
        }
        k += 1;
    }
    let mut end = if k == digits_start { start } else { k };
    let mut result = if neg { -value } else { value } as f64;
    if end < v.len() && matches!(v[end], b'.' | b'e' | b'E') || overflow {
        // strtod over the longest decimal prefix
        let s = std::str::from_utf8(&v[start..]).ok().unwrap_or("");
        let mut best: Option<(usize, f64)> = None;
        for n in (1..=s.len()).rev() {
            if !s.is_char_boundary(n) {
                continue;
            }
            let cand = &s[..n];
            let plain = cand.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
            if plain {
                if let Ok(f) = cand.parse::<f64>() {
                    best = Some((start + n, f));
                    break;
                }
            }
        }
        match best {
            Some((e, f)) if f.is_finite() => {
                end = e;
                result = f;
            }
            _ => return None,
        }
    }
    if end == start {
        return None;
    }
    while end < v.len() && is_space(v[end]) {
        end += 1;
    }
    if end != v.len() {
        return None;
    }
    let r = round_half_even(result);
    if r > i32::MAX as f64 || r < i32::MIN as f64 {
        return None;
    }
    Some(r as i32)
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// Canonical option names; `_` in a given name is read as `-`.
fn canonical(name: &str) -> String {
    name.replace('_', "-")
}

/// Where a boolean option is stored.
type FlagField = fn(&mut Options) -> &mut bool;

/// The boolean options, by canonical name, and the field each one sets.
const FLAGS: &[(&str, FlagField)] = &[
    ("include-transaction", |o| &mut o.include_transaction),
    ("include-xids", |o| &mut o.include_xids),
    ("include-timestamp", |o| &mut o.include_timestamp),
    ("include-origin", |o| &mut o.include_origin),
    ("include-schemas", |o| &mut o.include_schemas),
    ("include-types", |o| &mut o.include_types),
    ("include-type-oids", |o| &mut o.include_type_oids),
    ("include-typmod", |o| &mut o.include_typmod),
    ("include-domain-data-type", |o| &mut o.include_domain_data_type),
    ("include-column-positions", |o| &mut o.include_column_positions),
    ("include-not-null", |o| &mut o.include_not_null),
    ("include-default", |o| &mut o.include_default),
    ("include-pk", |o| &mut o.include_pk),
    ("include-lsn", |o| &mut o.include_lsn),
    ("numeric-data-types-as-string", |o| &mut o.numeric_data_types_as_string),
    ("write-in-chunks", |o| &mut o.write_in_chunks),
    ("include-truncate", |o| &mut o.include_truncate),
    ("include-relations", |o| &mut o.include_relations),
    ("include-empty-transaction", |o| &mut o.include_empty_transaction),
    ("partition-root", |o| &mut o.partition_root),
    ("stream-changes", |o| &mut o.stream_changes),
];

/// A boolean option's value; given without a value it means true.
fn flag(name: &str, value: Option<&[u8]>) -> Result<bool, OptionError> {
    match value {
        None => Ok(true),
        Some(v) => parse_bool(v).ok_or_else(|| OptionError::bad_value(name, v)),
    }
}

/// A list option's items, or wal2json's error for a malformed list.
fn list<T>(name: &str, v: &[u8], parse: impl Fn(&[u8]) -> Option<Vec<T>>) -> Result<Vec<T>, OptionError> {
    parse(v).ok_or_else(|| OptionError::bad_list(name, v))
}

fn split(v: &[u8]) -> Option<Vec<Vec<u8>>> {
    filter::split_list(v, false)
}

impl Options {
    /// Parses the plugin options in the order given (later ones win, list
    /// options append as in wal2json except `add-tables`, which restarts).
    pub fn parse<'a, I>(items: I) -> Result<Options, OptionError>
    where
        I: IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        let mut o = Options::default();
        for (name, value) in items {
            o.apply(name, value)?;
        }
        Ok(o)
    }

    /// Reads one option into `self`.
    fn apply(&mut self, name: &str, value: Option<&[u8]>) -> Result<(), OptionError> {
        let canon = canonical(name);
        if let Some((_, field)) = FLAGS.iter().find(|(n, _)| *n == canon) {
            *field(self) = flag(name, value)?;
            return Ok(());
        }
        #[cfg(feature = "fault-injection")]
        if canon == "waljson-test-panic" {
            self.fault_panic_on_change = flag(name, value)?;
            return Ok(());
        }
        match canon.as_str() {
            // wal2json only ever switches pretty printing on: a later
            // `pretty-print=0` does not undo an earlier `pretty-print=1`.
            "pretty-print" => self.pretty_print |= flag(name, value)?,
            "message-content-encoding" => self.message_content = Some(message_content(name, value)?),
            "binary-encoding" => self.binary_encoding = binary_encoding(name, value)?,
            "unchanged-toast-placeholder" => self.unchanged_toast_placeholder = value.map(<[u8]>::to_vec),
            "include-unchanged-toast" => {
                return Err(OptionError::new(ErrorKind::InvalidName, format!("parameter \"{name}\" was deprecated")))
            }
            "format-version" => self.format = format_version(name, value)?,
            "batch-size" => self.batch_size = Some(batch_size(name, value)?),
            "slot-name" => {
                self.slot_name = Some(value.ok_or_else(|| OptionError::bad_value(name, b"(null)"))?.to_vec())
            }
            "publication-names" => self.publication_names = Some(publication_names(name, value)?),
            "actions" => {
                if let Some(v) = value {
                    self.actions = actions(name, v)?;
                }
            }
            _ => return self.apply_filter(&canon, name, value),
        }
        Ok(())
    }

    /// The options of an initial snapshot (`waljson.snapshot()`): the
    /// session's, without what describes a transaction (xid, commit time,
    /// LSN, origin): snapshot rows belong to none.
    pub fn for_snapshot(&self) -> Options {
        Options {
            include_xids: false,
            include_timestamp: false,
            include_lsn: false,
            include_origin: false,
            stream_changes: false,
            ..self.clone()
        }
    }

    /// The first option given that only `waljson.snapshot()` takes (a
    /// slot refuses it).
    pub fn snapshot_only(&self) -> Option<&'static str> {
        if self.batch_size.is_some() {
            Some("batch-size")
        } else if self.slot_name.is_some() {
            Some("slot-name")
        } else {
            None
        }
    }

    /// The table, origin and message-prefix filters: a value adds to the
    /// list (`add-tables` restarts it), no value clears it.
    fn apply_filter(&mut self, canon: &str, name: &str, value: Option<&[u8]>) -> Result<(), OptionError> {
        match (canon, value) {
            ("filter-origins", None) => self.filter_origins.clear(),
            ("filter-origins", Some(v)) => self.filter_origins.extend(list(name, v, filter::parse_origin_list)?),
            ("filter-tables", None) => self.tables.filter.clear(),
            ("filter-tables", Some(v)) => self.tables.filter.extend(list(name, v, filter::parse_table_list)?),
            // Each add-tables restarts the list; an empty value (or none)
            // leaves it empty, which selects no table at all.
            ("add-tables", None) => self.tables.add = Some(Vec::new()),
            ("add-tables", Some(v)) => self.tables.add = Some(list(name, v, filter::parse_table_list)?),
            ("filter-msg-prefixes", None) => self.prefixes.filter.clear(),
            ("filter-msg-prefixes", Some(v)) => self.prefixes.filter.extend(list(name, v, split)?),
            ("add-msg-prefixes", None) => self.prefixes.add.clear(),
            ("add-msg-prefixes", Some(v)) => self.prefixes.add.extend(list(name, v, split)?),
            _ => {
                return Err(OptionError::new(
                    ErrorKind::InvalidParameterValue,
                    format!(
                        "option \"{}\" = \"{}\" is unknown",
                        name,
                        value.map(String::from_utf8_lossy).unwrap_or("(null)".into())
                    ),
                ))
            }
        }
        Ok(())
    }
}

/// `publication-names`: a comma list of names read as PostgreSQL reads
/// pgoutput's `publication_names` (SplitIdentifierString): unquoted names
/// are down-cased, `"Quoted"` ones kept (`""` inside is a quote).
fn publication_names(name: &str, value: Option<&[u8]>) -> Result<Vec<Vec<u8>>, OptionError> {
    let v = value.ok_or_else(|| OptionError::bad_value(name, b"(null)"))?;
    identifier_list(v).ok_or_else(|| {
        let mut e = OptionError::new(ErrorKind::InvalidName, format!("invalid {name} syntax: \"{}\"", String::from_utf8_lossy(v)));
        e.hint = Some("Give a comma-separated list of publication names; quote a name with double quotes to keep its case or a comma.".into());
        e
    })
}

/// PostgreSQL's identifier names are at most NAMEDATALEN - 1 bytes.
const NAME_MAX: usize = 63;

/// SplitIdentifierString(value, ','): None for a syntax error.
pub fn identifier_list(v: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while *i < v.len() && is_space(v[*i]) {
            *i += 1;
        }
    };
    skip_space(&mut i);
    if i == v.len() {
        return Some(names);
    }
    loop {
        let mut name = Vec::new();
        if v[i] == b'"' {
            i += 1;
            loop {
                match v.get(i) {
                    None => return None,
                    Some(b'"') if v.get(i + 1) == Some(&b'"') => {
                        name.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        name.push(c);
                        i += 1;
                    }
                }
            }
            if name.is_empty() {
                return None;
            }
        } else {
            let start = i;
            while i < v.len() && v[i] != b',' && !is_space(v[i]) {
                i += 1;
            }
            if i == start {
                return None;
            }
            name = v[start..i].to_ascii_lowercase();
        }
        if name.len() > NAME_MAX {
            // truncate_identifier: cut at a character boundary.
            let mut n = NAME_MAX;
            while n > 0 && (name[n] & 0xC0) == 0x80 {
                n -= 1;
            }
            name.truncate(n);
        }
        names.push(name);
        skip_space(&mut i);
        match v.get(i) {
            None => return Some(names),
            Some(b',') => {
                i += 1;
                skip_space(&mut i);
                if i == v.len() {
                    return None;
                }
            }
            Some(_) => return None,
        }
    }
}

fn message_content(name: &str, value: Option<&[u8]>) -> Result<MessageContent, OptionError> {
    match value.map(|v| v.to_ascii_lowercase()).as_deref() {
        Some(b"text") => Ok(MessageContent::Text),
        Some(b"base64") => Ok(MessageContent::Base64),
        Some(b"hex") => Ok(MessageContent::Hex),
        _ => {
            let mut e = OptionError::bad_value(name, value.unwrap_or(b"(null)"));
            e.hint = Some("Allowed values are text, base64 and hex.".into());
            Err(e)
        }
    }
}

/// Rows per format-1 document of `waljson.snapshot()` by default.
pub const SNAPSHOT_BATCH_DEFAULT: u32 = 1000;
/// At most: a document is one text value, under PostgreSQL's 1 GB.
const SNAPSHOT_BATCH_MAX: u32 = 1_000_000;

fn batch_size(name: &str, value: Option<&[u8]>) -> Result<u32, OptionError> {
    let n = value.and_then(parse_int);
    match n {
        Some(n) if n >= 1 && n as u32 <= SNAPSHOT_BATCH_MAX => Ok(n as u32),
        _ => {
            let mut e = OptionError::bad_value(name, value.unwrap_or(b"(null)"));
            e.hint = Some(format!("{name} is a number of rows from 1 to {SNAPSHOT_BATCH_MAX}."));
            Err(e)
        }
    }
}

fn binary_encoding(name: &str, value: Option<&[u8]>) -> Result<BinaryEncoding, OptionError> {
    match value.map(|v| v.to_ascii_lowercase()).as_deref() {
        Some(b"hex") => Ok(BinaryEncoding::Hex),
        Some(b"base64") => Ok(BinaryEncoding::Base64),
        _ => {
            let mut e = OptionError::bad_value(name, value.unwrap_or(b"(null)"));
            e.hint = Some("Allowed values are hex and base64.".into());
            Err(e)
        }
    }
}

fn actions(name: &str, v: &[u8]) -> Result<Actions, OptionError> {
    let mut a = Actions::NONE;
    for t in list(name, v, split)? {
        match t.as_slice() {
            b"insert" => a.insert = true,
            b"update" => a.update = true,
            b"delete" => a.delete = true,
            b"truncate" => a.truncate = true,
            _ => {
                let mut e = OptionError::bad_value(name, &t);
                e.hint = Some("Allowed actions are insert, update, delete and truncate.".into());
                return Err(e);
            }
        }
    }
    Ok(a)
}

/// `format-version`: a number (parsed as wal2json parses it) naming one of
/// the registered formats; given without a value, wal2json's newest.
fn format_version(name: &str, value: Option<&[u8]>) -> Result<Version, OptionError> {
    let n = match value {
        None => return Ok(Version::VALUELESS),
        Some(v) => parse_int(v).ok_or_else(|| OptionError::bad_value(name, v))?,
    };
    Version::from_number(n).ok_or_else(|| {
        let (bound, side) = if n > Version::MAX { (Version::MAX, "lower") } else { (Version::MIN, "higher") };
        OptionError::new(
            ErrorKind::FeatureNotSupported,
            format!("client sent format_version={n} but we only support format {bound} or {side}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[(&str, Option<&str>)]) -> Result<Options, OptionError> {
        Options::parse(items.iter().map(|(n, v)| (*n, v.map(|s| s.as_bytes()))))
    }

    #[test]
    fn bools() {
        for t in ["t", "tr", "TRUE", "y", "yes", "on", "On", "1"] {
            assert_eq!(parse_bool(t.as_bytes()), Some(true), "{t}");
        }
        for f in ["f", "fal", "False", "n", "no", "of", "off", "0"] {
            assert_eq!(parse_bool(f.as_bytes()), Some(false), "{f}");
        }
        for bad in ["", "o", "truex", "2", "10", " true", "true ", "yess", "of f"] {
            assert_eq!(parse_bool(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn ints() {
        for (s, v) in [
            ("2", Some(2)),
            (" 2 ", Some(2)),
            ("0x2", Some(2)),
            ("02", Some(2)),
            ("+1", Some(1)),
            ("-1", Some(-1)),
            ("2.4", Some(2)),
            ("1.5", Some(2)),
            ("2.5", Some(2)),
            ("2e0", Some(2)),
            ("08", None),
            ("", None),
            ("x", None),
            ("2x", None),
            ("inf", None),
            ("99999999999", None),
        ] {
            assert_eq!(parse_int(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn defaults_and_flags() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.format, Version::V1);
        assert!(o.include_schemas && o.include_types && o.include_transaction && !o.include_xids);
        let o =
            parse(&[("include-xids", None), ("include_timestamp", Some("on")), ("format-version", Some("2"))]).unwrap();
        assert!(o.include_xids && o.include_timestamp);
        assert_eq!(o.format, Version::V2);
        let o = parse(&[("format-version", None)]).unwrap();
        assert_eq!(o.format, Version::V2);
        let o = parse(&[("pretty-print", Some("1")), ("pretty-print", Some("0"))]).unwrap();
        assert!(o.pretty_print);
    }

    #[test]
    fn snapshot_options() {
        let o = parse(&[
            ("batch-size", Some("500")),
            ("slot-name", Some("s1")),
            ("include-xids", Some("1")),
            ("include-lsn", Some("1")),
        ])
        .unwrap();
        assert_eq!((o.batch_size, o.slot_name.as_deref()), (Some(500), Some(b"s1".as_slice())));
        assert_eq!(o.snapshot_only(), Some("batch-size"));
        let s = o.for_snapshot();
        assert!(!s.include_xids && !s.include_lsn && o.include_xids);
        assert_eq!(Options::default().snapshot_only(), None);
        for bad in ["0", "-1", "x", "1000001"] {
            let e = parse(&[("batch-size", Some(bad))]).unwrap_err();
            assert_eq!(e.message, format!("could not parse value \"{bad}\" for parameter \"batch-size\""));
        }
        assert!(parse(&[("slot-name", None)]).is_err());
    }

    #[test]
    fn errors() {
        let e = parse(&[("nosuchopt", Some("42"))]).unwrap_err();
        assert_eq!(e.message, "option \"nosuchopt\" = \"42\" is unknown");
        assert_eq!(e.kind, ErrorKind::InvalidParameterValue);
        let e = parse(&[("nosuchopt", None)]).unwrap_err();
        assert_eq!(e.message, "option \"nosuchopt\" = \"(null)\" is unknown");
        let e = parse(&[("include_xids", Some("maybe"))]).unwrap_err();
        assert_eq!(e.message, "could not parse value \"maybe\" for parameter \"include_xids\"");
        let e = parse(&[("include-unchanged-toast", Some("1"))]).unwrap_err();
        assert_eq!(e.message, "parameter \"include-unchanged-toast\" was deprecated");
        let e = parse(&[("format-version", Some("4"))]).unwrap_err();
        assert_eq!(e.message, "client sent format_version=4 but we only support format 3 or lower");
        let e = parse(&[("format-version", Some("0"))]).unwrap_err();
        assert_eq!(e.message, "client sent format_version=0 but we only support format 1 or higher");
        let e = parse(&[("actions", Some("insert, xupdate"))]).unwrap_err();
        assert_eq!(e.message, "could not parse value \"xupdate\" for parameter \"actions\"");
        let e = parse(&[("actions", Some("insert,,"))]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidName);
        let e = parse(&[("filter-tables", Some("nodot"))]).unwrap_err();
        assert_eq!(e.message, "could not parse value \"nodot\" for parameter \"filter-tables\"");
        assert!(parse(&[("waljson-test-panic", Some("1"))]).is_err() || cfg!(feature = "fault-injection"));
        for bad in [Some("base32"), Some(""), Some("1"), None] {
            let e = parse(&[("message-content-encoding", bad)]).unwrap_err();
            let shown = bad.unwrap_or("(null)");
            assert_eq!(
                e.message,
                format!("could not parse value \"{shown}\" for parameter \"message-content-encoding\"")
            );
            assert_eq!(e.hint.as_deref(), Some("Allowed values are text, base64 and hex."));
        }
    }

    #[test]
    fn message_content_encoding() {
        assert_eq!(parse(&[]).unwrap().message_content, None);
        for (v, want) in
            [("text", MessageContent::Text), ("Base64", MessageContent::Base64), ("hex", MessageContent::Hex)]
        {
            assert_eq!(parse(&[("message_content_encoding", Some(v))]).unwrap().message_content, Some(want), "{v}");
        }
    }

    #[test]
    fn lists() {
        let o = parse(&[("actions", Some("insert, delete"))]).unwrap();
        assert_eq!(o.actions, Actions { insert: true, update: false, delete: true, truncate: false });
        let o = parse(&[("actions", Some(""))]).unwrap();
        assert_eq!(o.actions, Actions { insert: false, update: false, delete: false, truncate: false });
        let o = parse(&[("actions", None)]).unwrap();
        assert_eq!(o.actions, Actions::default());
        let o = parse(&[("add-tables", Some("a.b")), ("add-tables", Some("c.d"))]).unwrap();
        assert_eq!(o.tables.add.as_ref().unwrap().len(), 1);
        assert!(o.tables.wants(b"c", b"d") && !o.tables.wants(b"a", b"b"));
        let o = parse(&[("add-tables", Some(""))]).unwrap();
        assert!(!o.tables.wants(b"a", b"b"));
        let o = parse(&[("filter-tables", Some("a.b")), ("filter-tables", Some("c.d"))]).unwrap();
        assert_eq!(o.tables.filter.len(), 2);
        let o = parse(&[("filter-msg-prefixes", Some("a\\,b, c"))]).unwrap();
        assert_eq!(o.prefixes.filter, vec![b"a\\,b".to_vec(), b"c".to_vec()]);
        let o = parse(&[("filter-origins", Some("1,2")), ("filter-origins", Some("3"))]).unwrap();
        assert_eq!(o.filter_origins, vec![1, 2, 3]);
    }

    #[test]
    fn wal2json_27_options() {
        let o = parse(&[]).unwrap();
        assert!(o.include_empty_transaction && !o.partition_root);
        let o = parse(&[("include-empty-transaction", Some("0")), ("partition_root", Some("on"))]).unwrap();
        assert!(!o.include_empty_transaction && o.partition_root);
        let e = parse(&[("partition-root", Some("2"))]).unwrap_err();
        assert_eq!(e.message, "could not parse value \"2\" for parameter \"partition-root\"");
    }

    #[test]
    fn publication_name_lists() {
        let names = |s: &str| {
            identifier_list(s.as_bytes())
                .map(|v| v.into_iter().map(|n| String::from_utf8(n).unwrap()).collect::<Vec<_>>())
        };
        assert_eq!(names(""), Some(vec![]));
        assert_eq!(names(" p "), Some(vec!["p".into()]));
        assert_eq!(names("P1, p2"), Some(vec!["p1".into(), "p2".into()]));
        assert_eq!(
            names("\"Mixed Case\",\"a,b\",\"q\"\"x\""),
            Some(vec!["Mixed Case".into(), "a,b".into(), "q\"x".into()])
        );
        for bad in ["a,", ",a", "a b", "\"open", "\"\"", "a,,b"] {
            assert_eq!(names(bad), None, "{bad:?}");
        }
        assert_eq!(names(&"x".repeat(70)).unwrap()[0].len(), 63);
        let o = parse(&[("publication_names", Some("a, \"B\""))]).unwrap();
        assert_eq!(o.publication_names, Some(vec![b"a".to_vec(), b"B".to_vec()]));
        let e = parse(&[("publication-names", Some("a b"))]).unwrap_err();
        assert_eq!(e.message, "invalid publication-names syntax: \"a b\"");
        assert_eq!(e.kind, ErrorKind::InvalidName);
        let e = parse(&[("publication-names", None)]).unwrap_err();
        assert_eq!(e.message, "could not parse value \"(null)\" for parameter \"publication-names\"");
    }
}
