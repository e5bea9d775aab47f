//! The `agentry` binary: argument parsing, dispatch to one file per subcommand, and the
//! mapping of errors to one line on stderr and an exit code.

mod cli;
mod commands;
mod error;
mod git;
mod output;
mod project;
mod prompts;

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
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("agentry: {}", error::one_line(&err));
            ExitCode::from(error::exit_code(&err))
        }
    }
}
