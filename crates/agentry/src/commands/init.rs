//! `agentry init`: config, prompt templates and store in a git repository.

use std::fs;
use std::io::Write;
use std::path::Path;

use agentry_core::config::{self, Config};
use anyhow::{Context, Result};

use crate::git;
use crate::output::outln;
use crate::project::{self, CONFIG_FILE, PROMPTS_DIR};

/// Runtime files that stay out of git; config and prompts are meant to be committed.
const EXCLUDED: [&str; 5] = [
    "/.agentry/agentry.db*",
    "/.agentry/worktrees/",
    "/.agentry/logs/",
    "/.agentry/runtime/",
    "/.agentry/transcripts/",
];

pub fn run(dir: &Path) -> Result<()> {
    let root = git::main_worktree_root(dir)?;
    let mut created = Vec::new();
    let config = write_config(&root, &mut created)?;
    write_prompts(&root, &mut created)?;
    let store_path = project::store_path(&root, &config);
    if !store_path.exists() {
        created.push(config.store.path.clone());
    }
    project::create_store(&root, &config)?;
    exclude_runtime_files(&root, &mut created)?;
    if created.is_empty() {
        outln!(
            "agentry is already set up in {}: nothing changed",
            root.display()
        );
    } else {
        outln!("agentry is set up in {}", root.display());
        for item in created {
            outln!("  created {item}");
        }
    }
    Ok(())
}

/// Writes config.toml if there is none, and returns the config in force.
fn write_config(root: &Path, created: &mut Vec<String>) -> Result<Config> {
    let path = root.join(CONFIG_FILE);
    if path.exists() {
        let text = fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        return Ok(config::load(&text, std::env::vars())?);
    }
    let mut config = Config::default();
    if let Some(branch) = git::current_branch(root)? {
        config.session.base_branch = branch;
    }
    let text = config::render(&config);
    // Check the environment's overrides before anything is written.
    let effective = config::load(&text, std::env::vars())?;
    fs::create_dir_all(path.parent().expect("config has a folder"))?;
    fs::write(&path, &text).with_context(|| format!("could not write {}", path.display()))?;
    created.push(CONFIG_FILE.to_string());
    Ok(effective)
}

fn write_prompts(root: &Path, created: &mut Vec<String>) -> Result<()> {
    let dir = root.join(PROMPTS_DIR);
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    for template in agentry_engine::prompts::defaults() {
        let (name, path) = (template.file, dir.join(template.file));
        if !path.exists() {
            fs::write(&path, template.text)
                .with_context(|| format!("could not write {}", path.display()))?;
            created.push(format!("{PROMPTS_DIR}/{name}"));
        }
    }
    Ok(())
}

fn exclude_runtime_files(root: &Path, created: &mut Vec<String>) -> Result<()> {
    let path = git::exclude_file(root)?;
    let existing = fs::read_to_string(&path).unwrap_or_default();
    let missing: Vec<&str> = EXCLUDED
        .iter()
        .copied()
        .filter(|line| !existing.lines().any(|l| l == *line))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(path.parent().expect("exclude file has a folder"))?;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    if !existing.is_empty() && !existing.ends_with('\n') {
        writeln!(file)?;
    }
    for line in &missing {
        writeln!(file, "{line}")?;
    }
    created.push(format!("{} entries in .git/info/exclude", missing.len()));
    Ok(())
}
