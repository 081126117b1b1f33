//! The ParaView collection of a run's snapshots (`snapshots.pvd` in the run folder): every
//! `.vti` snapshot with its simulated time in days, so ParaView (File > Open
//! `snapshots.pvd`) loads them as one time series with the right times on its time axis.
//! Rewritten atomically each time a snapshot is added, so a reader never sees half of it.

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic_with;
use crate::error::{Error, Result};

/// A `.pvd` file and the snapshots it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    path: PathBuf,
    /// (time in days, file relative to the collection's folder), in time order.
    entries: Vec<(f64, String)>,
}

impl Collection {
    /// The collection at `path`: the snapshots it already lists (a resumed run keeps the
    /// earlier ones), or none when there is no file yet.
    pub fn open(path: &Path) -> Result<Collection> {
        let entries = match std::fs::read_to_string(path) {
            Ok(text) => parse(&text).map_err(|(line, what)| {
                Error::Invalid(format!(
                    "{}:{line}: {what} (not a snapshot collection this program wrote; move it \
                     away to start a new one)",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(path, e)),
        };
        Ok(Collection {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Lists `file` (relative to the collection's folder) at `time_days`, replacing an entry
    /// of the same file (a snapshot rewritten after a resume), and rewrites the collection.
    pub fn add(&mut self, time_days: f64, file: &str) -> Result<()> {
        if file.contains(['"', '<', '>', '&']) {
            return Err(Error::Invalid(format!(
                "{}: snapshot name `{file}` cannot go in an XML attribute",
                self.path.display()
            )));
        }
        self.entries.retain(|(_, f)| f != file);
        let at = self.entries.partition_point(|(t, _)| *t <= time_days);
        self.entries.insert(at, (time_days, file.to_string()));
        let entries = &self.entries;
        write_atomic_with(&self.path, |w| {
            use std::io::Write;
            writeln!(w, r#"<?xml version="1.0"?>"#)?;
            writeln!(
                w,
                r#"<VTKFile type="Collection" version="1.0" byte_order="LittleEndian">"#
            )?;
            writeln!(w, "  <Collection>")?;
            for (t, f) in entries {
                writeln!(
                    w,
                    r#"    <DataSet timestep="{t}" group="" part="0" file="{f}"/>"#
                )?;
            }
            writeln!(w, "  </Collection>")?;
            writeln!(w, "</VTKFile>")
        })
    }

    /// The folder the listed files are relative to.
    pub fn folder(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// The listed snapshots: (time in days, file relative to the collection's folder).
    pub fn entries(&self) -> &[(f64, String)] {
        &self.entries
    }
}

/// The `DataSet` entries of a collection written by [`Collection::add`]; on failure, the
/// 1-based line and what is wrong there.
fn parse(text: &str) -> std::result::Result<Vec<(f64, String)>, (usize, String)> {
    let mut entries = Vec::new();
    let mut seen_collection = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let l = line.trim();
        if l.starts_with(r#"<VTKFile type="Collection""#) {
            seen_collection = true;
        }
        if !l.starts_with("<DataSet ") {
            continue;
        }
        let attr = |name: &str| -> std::result::Result<&str, (usize, String)> {
            let key = format!(r#" {name}=""#);
            let start = l
                .find(&key)
                .ok_or_else(|| (line_no, format!("a DataSet without `{name}`")))?
                + key.len();
            let len = l[start..]
                .find('"')
                .ok_or_else(|| (line_no, format!("`{name}` is not closed")))?;
            Ok(&l[start..start + len])
        };
        let t = attr("timestep")?;
        let time = t
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite())
            .ok_or_else(|| (line_no, format!("timestep `{t}` is not a number")))?;
        entries.push((time, attr("file")?.to_string()));
    }
    if !seen_collection {
        return Err((1, "no <VTKFile type=\"Collection\"> element".into()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries come back in time order with their times exact, a rewritten snapshot keeps
    /// one entry, and a reopened collection (a resumed run) keeps the earlier snapshots.
    #[test]
    fn adds_replaces_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.pvd");
        let mut c = Collection::open(&path).unwrap();
        assert!(c.entries().is_empty());
        c.add(0.0, "snapshots/step_000000000.vti").unwrap();
        c.add(0.5, "snapshots/step_000000012.vti").unwrap();
        c.add(1.0 / 3.0, "snapshots/step_000000008.vti").unwrap();
        c.add(0.5, "snapshots/step_000000012.vti").unwrap();
        let want = vec![
            (0.0, "snapshots/step_000000000.vti".to_string()),
            (1.0 / 3.0, "snapshots/step_000000008.vti".to_string()),
            (0.5, "snapshots/step_000000012.vti".to_string()),
        ];
        assert_eq!(c.entries(), want.as_slice());
        let mut again = Collection::open(&path).unwrap();
        assert_eq!(again.entries(), want.as_slice());
        again.add(1.0, "snapshots/step_000000024.vti").unwrap();
        assert_eq!(Collection::open(&path).unwrap().entries().len(), 4);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(
            r#"<DataSet timestep="0.5" group="" part="0" file="snapshots/step_000000012.vti"/>"#
        ));
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A file that is not a collection this program wrote is refused with its line.
    #[test]
    fn refuses_what_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.pvd");
        std::fs::write(&path, "hello\n").unwrap();
        let e = Collection::open(&path).unwrap_err().to_string();
        assert!(e.contains("snapshots.pvd:1: no <VTKFile"), "{e}");
        std::fs::write(
            &path,
            "<VTKFile type=\"Collection\">\n<DataSet timestep=\"x\" file=\"a.vti\"/>\n",
        )
        .unwrap();
        let e = Collection::open(&path).unwrap_err().to_string();
        assert!(
            e.contains("snapshots.pvd:2: timestep `x` is not a number"),
            "{e}"
        );
        let mut c = Collection::open(&dir.path().join("new.pvd")).unwrap();
        assert!(c.add(0.0, "a\"b.vti").is_err());
    }
}
