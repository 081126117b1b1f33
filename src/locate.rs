//! Finds the line and column of a key in a TOML document, so that a value that parses but
//! is out of range can be reported where the user wrote it; and the nearest known key to a
//! misspelt one. Beside `error.rs`, below every file format that reports locations
//! (presets, model files, drug libraries, sweeps).

use toml::de::{DeArray, DeTable, DeValue};

use crate::error::Location;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Formats a path the way users write it: `species[1].diffusion`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Line/column lookup over one parsed document.
pub struct Locator<'a> {
    file: String,
    source: &'a str,
    root: Option<toml::Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    /// Parses `source` (already known to be valid TOML, or not: lookups then give no line).
    pub fn new(file: &str, source: &'a str) -> Self {
        Locator {
            file: file.to_string(),
            source,
            root: DeTable::parse(source).ok(),
        }
    }

    /// Location of byte offset `offset`.
    pub fn at_offset(&self, offset: Option<usize>) -> Location {
        match offset {
            Some(off) => {
                let before = &self.source[..off.min(self.source.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                Location {
                    file: self.file.clone(),
                    line: Some(line),
                    column: Some(column),
                }
            }
            None => Location {
                file: self.file.clone(),
                line: None,
                column: None,
            },
        }
    }

    /// Location of the value at `path`, or of its deepest existing parent.
    pub fn locate(&self, path: &[Seg]) -> Location {
        let Some(root) = &self.root else {
            return self.at_offset(None);
        };
        let mut best = None;
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        let mut array: Option<&DeArray<'_>> = None;
        for seg in path {
            let value = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                    .map(|(_, v)| v),
                (Seg::Index(i), _, Some(a)) => a.get(*i),
                _ => None,
            };
            let Some(value) = value else { break };
            best = Some(value.span().start);
            table = None;
            array = None;
            match value.get_ref() {
                DeValue::Table(t) => table = Some(t),
                DeValue::Array(a) => array = Some(a),
                _ => {}
            }
        }
        self.at_offset(best)
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
