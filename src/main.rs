//! The `osteoniche` command line.

#![allow(
    clippy::result_large_err,
    reason = "the library's errors carry file, line and key context; they are rare and never on a hot path"
)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
