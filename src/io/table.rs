//! CSV as every file of a run folder writes and reads it, through the `csv` crate: a header
//! line, then records; a cell holding a comma, a quote or a line break is quoted.

use std::path::Path;

use crate::error::{Error, Result};

/// One CSV record with its line ending, quoted where a cell needs it.
pub fn record<I, T>(cells: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(cells)
        .expect("a CSV record into memory cannot fail");
    let bytes = w.into_inner().expect("flushing into memory cannot fail");
    String::from_utf8(bytes).expect("cells are UTF-8")
}

/// Records of a CSV file, each with its 1-based line.
pub type Records = Vec<(u64, csv::StringRecord)>;

/// The header and records of CSV `text` read from `path` (named in errors); every record
/// has the header's number of cells.
pub fn read(text: &str, path: &Path) -> Result<(Vec<String>, Records)> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        let line = e
            .position()
            .map_or(String::new(), |p| format!(":{}", p.line()));
        Error::Invalid(format!("{}{line}: {e}", path.display()))
    };
    let header: Vec<String> = r.headers().map_err(bad)?.iter().map(String::from).collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(Error::Invalid(format!("{}: empty file", path.display())));
    }
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(bad)?;
        let line = rec.position().map_or(0, |p| p.line());
        rows.push((line, rec));
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell with a comma, a quote or a line break survives the round trip; a short
    /// record is refused with its line.
    #[test]
    fn quotes_what_needs_it_and_reads_it_back() {
        let mut text = record(["run", "folder"]);
        text.push_str(&record(["breast, osteolytic \"arm\"", "out/a"]));
        text.push_str(&record(["two\nlines", "b"]));
        assert!(text.starts_with("run,folder\n\"breast, osteolytic \"\"arm\"\"\",out/a\n"));
        let (header, rows) = read(&text, Path::new("x.csv")).unwrap();
        assert_eq!(header, ["run", "folder"]);
        assert_eq!(&rows[0].1[0], "breast, osteolytic \"arm\"");
        assert_eq!(&rows[1].1[0], "two\nlines");
        assert_eq!(rows[0].0, 2);
        let e = read("a,b\n1,2\n3\n", Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.csv:3: "), "{e}");
        assert!(read("", Path::new("x.csv")).is_err());
    }
}
