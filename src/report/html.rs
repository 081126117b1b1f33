//! report.html: one self-contained page (no scripts, no external files) with the runs,
//! the endpoint tables and the plots inline as SVG.

use std::fmt::Write;

use super::{DIFFERENCE_NOTE, Endpoint, RunData, fmt_value};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page.
pub fn page(title: &str, runs: &[RunData], eps: &[Endpoint], plots: &[(String, String)]) -> String {
    let mut h = String::new();
    let w = &mut h;
    writeln!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; }}\n\
         td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}\n\
         figure {{ margin: 1.5em 0; }}\n\
         code {{ font-size: 0.9em; }}\n\
         </style>\n</head>\n<body>\n<h1>{}</h1>",
        esc(title),
        esc(title)
    )
    .expect("string write");
    writeln!(w, "<h2>Runs</h2>\n<table>\n<tr><th>run</th><th>preset</th><th>seed</th><th>grid</th><th>backend</th><th>osteoniche</th><th>folder</th></tr>").expect("string write");
    for r in runs {
        let s = &r.summary;
        let grid = &s["grid"];
        let grid = format!(
            "{}×{}×{} at {} µm",
            grid["nx"], grid["ny"], grid["nz"], grid["dx_um"]
        );
        let backend = format!(
            "{} ({})",
            s["backend"]["kind"].as_str().unwrap_or("?"),
            s["backend"]["device"].as_str().unwrap_or("?")
        );
        writeln!(
            w,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&r.label),
            esc(s["preset_file"].as_str().unwrap_or("?")),
            s["seed"],
            esc(&grid),
            esc(&backend),
            esc(s["versions"]["git_commit"].as_str().unwrap_or("?")),
            esc(&r.dir.display().to_string())
        )
        .expect("string write");
    }
    writeln!(
        w,
        "</table>\n<h2>Endpoints</h2>\n<table>\n<tr><th>endpoint</th>"
    )
    .expect("string write");
    for r in runs {
        write!(w, "<th>{}</th>", esc(&r.label)).expect("string write");
    }
    writeln!(w, "</tr>").expect("string write");
    for e in eps {
        write!(w, "<tr><td>{}</td>", esc(&e.title)).expect("string write");
        for v in &e.values {
            write!(w, "<td class=\"num\">{}</td>", fmt_value(*v)).expect("string write");
        }
        writeln!(w, "</tr>").expect("string write");
    }
    writeln!(w, "</table>").expect("string write");
    if runs.len() > 1 {
        writeln!(
            w,
            "<p>Difference from <b>{}</b> ({}):</p>\n<table>\n<tr><th>endpoint</th>",
            esc(&runs[0].label),
            DIFFERENCE_NOTE
        )
        .expect("string write");
        for r in &runs[1..] {
            write!(w, "<th>{}</th>", esc(&r.label)).expect("string write");
        }
        writeln!(w, "</tr>").expect("string write");
        for e in eps {
            write!(w, "<tr><td>{}</td>", esc(&e.title)).expect("string write");
            for i in 1..e.values.len() {
                let cell = e.fmt_difference(i);
                write!(w, "<td class=\"num\">{cell}</td>").expect("string write");
            }
            writeln!(w, "</tr>").expect("string write");
        }
        writeln!(w, "</table>").expect("string write");
    }
    writeln!(w, "<h2>Time series</h2>").expect("string write");
    for (title, svg) in plots {
        writeln!(
            w,
            "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>",
            esc(title)
        )
        .expect("string write");
    }
    writeln!(w, "</body>\n</html>").expect("string write");
    h
}
