//! The `agentry` binary: argument parsing, dispatch to one file per subcommand, and the
//! mapping of errors to one line on stderr and an exit code.

mod cli;
mod commands;
mod error;
mod git;
mod output;
mod project;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() => {
            eprintln!("agentry: {}", error::clap_line(&err));
            return ExitCode::from(2);
        }
        Err(err) => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
    };
    init_logging();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("agentry: {}", error::one_line(&err));
            ExitCode::from(error::exit_code(&err))
        }
    }
}

/// Logs go to stderr; `AGENTRY_LOG` sets the filter (default: info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
