//! The files an issue's verify commands run: the program of a command when it is a path
//! (`./check.sh`, `tests/login.sh`), and the files given to an interpreter or a test runner
//! (`sh tests/login.sh`, `python3 -m pytest tests/test_login.py`). Agents may not change them,
//! or they could pass their own checks. Files a command only reads (`grep -q hello
//! README.md`) are the work the check looks at, not the check.

/// Programs whose file arguments are code they run.
const RUNNERS: [&str; 21] = [
    "sh", "bash", "dash", "zsh", "ksh", "fish", "python", "python3", "node", "deno", "bun", "ruby",
    "perl", "php", "Rscript", "pytest", "jest", "vitest", "mocha", "bats", "source",
];

/// Words between simple commands.
const SEPARATORS: [&str; 5] = ["&&", "||", ";", "|", "&"];

/// The relative paths (no `..`) that `commands` run; which of them exist is for the caller
/// to see. Sorted, each once.
pub fn verify_scripts(commands: &[String]) -> Vec<String> {
    let mut scripts: Vec<String> = commands
        .iter()
        .flat_map(|command| {
            let words = shlex::split(command).unwrap_or_default();
            words
                .split(|word| SEPARATORS.contains(&word.as_str()))
                .flat_map(run_by)
                .collect::<Vec<_>>()
        })
        .filter(|path| is_relative_inside(path))
        .collect();
    scripts.sort();
    scripts.dedup();
    scripts
}

/// What one simple command runs: its program if that is a path, or the paths a runner is
/// given.
fn run_by(words: &[String]) -> Vec<String> {
    // Leading assignments (`FOO=1 sh x.sh`) set the environment.
    let mut words = words.iter().skip_while(|word| word.contains('='));
    let Some(program) = words.next() else {
        return Vec::new();
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    match (program.contains('/'), RUNNERS.contains(&name)) {
        (_, true) => words
            .filter(|word| !word.starts_with('-'))
            .cloned()
            .collect(),
        (true, false) => vec![program.clone()],
        (false, false) => Vec::new(),
    }
}

fn is_relative_inside(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with(['/', '~', '$'])
        && !path.split('/').any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts(commands: &[&str]) -> Vec<String> {
        let commands: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
        verify_scripts(&commands)
    }

    #[test]
    fn scripts_given_to_a_shell_or_a_runner_are_run() {
        assert_eq!(
            scripts(&[
                "sh tests/login.sh --fast",
                "python3 -m pytest tests/test_a.py"
            ]),
            ["pytest", "tests/login.sh", "tests/test_a.py"]
        );
        assert_eq!(
            scripts(&["FOO=1 bash -e ci/check.sh && ./run-tests"]),
            ["./run-tests", "ci/check.sh"]
        );
    }

    #[test]
    fn files_a_command_only_reads_are_not_its_scripts() {
        assert!(scripts(&["grep -q hello README.md", "test -f done.txt", "cargo test"]).is_empty());
    }

    #[test]
    fn paths_outside_the_worktree_are_left_out() {
        assert!(scripts(&["sh ../x.sh", "/usr/bin/check", "sh ~/x.sh", "sh $HOME/x"]).is_empty());
    }
}
