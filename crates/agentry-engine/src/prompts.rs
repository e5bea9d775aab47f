//! Prompt templates: one per role, read from `.agentry/prompts/<role>.md` where present and
//! the built-in defaults otherwise, rendered with strict undefined variables.

use std::path::Path;

use agentry_core::question::Answer;
use agentry_core::{Issue, Role};
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

/// Each role's default template: its file name and text.
pub const DEFAULTS: [(Role, &str, &str); 4] = [
    (
        Role::Implementer,
        "implementer.md",
        include_str!("../prompts/implementer.md"),
    ),
    (Role::Fixer, "fixer.md", include_str!("../prompts/fixer.md")),
    (
        Role::SpecReviewer,
        "spec_reviewer.md",
        include_str!("../prompts/spec_reviewer.md"),
    ),
    (
        Role::QualityReviewer,
        "quality_reviewer.md",
        include_str!("../prompts/quality_reviewer.md"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("prompt template {name}: {message}")]
    Template { name: String, message: String },
}

/// What a template may use.
#[derive(Clone, Debug, Serialize)]
pub struct PromptContext<'a> {
    pub issue: &'a Issue,
    pub base_branch: &'a str,
    /// The change against the base branch (for reviewers).
    pub diff: String,
    pub verify: VerifyContext,
    pub review: ReviewContext,
    /// The issue's last question and the answer a person gave (none when there is none).
    pub answer: Option<Answer>,
    /// The required fields an incomplete question packet lacked (empty unless the implementer
    /// is asked for a revised packet).
    pub revise_question: Vec<String>,
}

/// The latest verification: exit code and output (empty before the first run).
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyContext {
    pub exit_code: Option<i32>,
    pub output: String,
}

/// The review a fixer answers (empty for other roles).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReviewContext {
    pub stage: String,
    pub attempt: u32,
    pub failed_items: Vec<String>,
    pub fix_list: Vec<String>,
}

pub struct Prompts {
    env: Environment<'static>,
}

impl Prompts {
    /// The defaults, replaced by any template file present in `dir`. Every template is
    /// checked here, so a broken one stops a run before it claims anything.
    pub fn load(dir: Option<&Path>) -> Result<Self, PromptError> {
        let mut env = new_env();
        for (_, name, default) in DEFAULTS {
            add_template(&mut env, dir, name, default)?;
        }
        Ok(Self { env })
    }

    /// Each role's template on its own: its name, and why it cannot be used if it cannot.
    pub fn check_each(dir: Option<&Path>) -> Vec<(Role, &'static str, Option<PromptError>)> {
        DEFAULTS
            .iter()
            .map(|(role, name, default)| {
                let checked = add_template(&mut new_env(), dir, name, default);
                (*role, *name, checked.err())
            })
            .collect()
    }

    pub fn render(&self, role: Role, context: &PromptContext) -> Result<String, PromptError> {
        let name = template_name(role);
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        template
            .render(Value::from_serialize(context))
            .map_err(|e| template_error(name, &e))
    }
}

fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

/// Adds the template file in `dir` if there is one, else the default; checks it compiles.
fn add_template(
    env: &mut Environment<'static>,
    dir: Option<&Path>,
    name: &'static str,
    default: &str,
) -> Result<(), PromptError> {
    let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
        Some(path) => std::fs::read_to_string(&path).map_err(|source| PromptError::Read {
            path: path.display().to_string(),
            source,
        })?,
        None => default.to_string(),
    };
    env.add_template_owned(name, text)
        .map_err(|e| template_error(name, &e))
}

fn template_name(role: Role) -> &'static str {
    DEFAULTS
        .iter()
        .find(|(r, _, _)| *r == role)
        .map(|(_, name, _)| *name)
        .expect("every role has a template")
}

fn template_error(name: &str, err: &minijinja::Error) -> PromptError {
    PromptError::Template {
        name: name.to_string(),
        message: err.to_string().replace('\n', " "),
    }
}

#[cfg(test)]
mod tests {
    use agentry_core::{IssueId, NewIssue, Timestamp};

    use super::*;

    fn context(issue: &Issue) -> PromptContext<'_> {
        PromptContext {
            issue,
            base_branch: "main",
            diff: "+hello".into(),
            verify: VerifyContext {
                exit_code: Some(0),
                output: "ok".into(),
            },
            review: ReviewContext {
                stage: "spec".into(),
                attempt: 1,
                failed_items: vec!["x".into()],
                fix_list: vec!["y".into()],
            },
            answer: None,
            revise_question: Vec::new(),
        }
    }

    #[test]
    fn every_default_renders_the_dispatch_packet() {
        let mut issue = NewIssue::new("Add greeting")
            .into_issue(IssueId::generate(3), Timestamp::from_unix_micros(0));
        issue.scope = vec!["src/**".into()];
        issue.verify = vec!["sh test.sh".into()];
        let prompts = Prompts::load(None).unwrap();
        for role in Role::ALL {
            let text = prompts.render(role, &context(&issue)).unwrap();
            for needle in [
                "Add greeting",
                "src/**",
                "sh test.sh",
                "SCOPE",
                "DONE-WHEN",
                "VERIFY",
            ] {
                assert!(
                    text.contains(needle),
                    "{role} prompt lacks {needle}:\n{text}"
                );
            }
        }
    }

    #[test]
    fn the_implementer_hears_the_answer_and_what_a_packet_lacked() {
        let issue =
            NewIssue::new("t").into_issue(IssueId::generate(3), Timestamp::from_unix_micros(0));
        let prompts = Prompts::load(None).unwrap();
        let plain = prompts.render(Role::Implementer, &context(&issue)).unwrap();
        assert!(!plain.contains("You asked"), "{plain}");
        let mut asked = context(&issue);
        asked.answer = Some(Answer {
            question: "Which greeting?".into(),
            answer: "Say hello".into(),
        });
        asked.revise_question = vec!["options".into(), "recommended".into()];
        for role in [Role::Implementer, Role::Fixer] {
            let text = prompts.render(role, &asked).unwrap();
            assert!(
                text.contains("Which greeting?") && text.contains("Say hello"),
                "{text}"
            );
        }
        let text = prompts.render(Role::Implementer, &asked).unwrap();
        assert!(text.contains("options, recommended"), "{text}");
    }

    #[test]
    fn a_template_file_replaces_the_default_and_undefined_names_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("implementer.md"),
            "Do {{ issue.title }} {{ nope }}",
        )
        .unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let issue =
            NewIssue::new("t").into_issue(IssueId::generate(3), Timestamp::from_unix_micros(0));
        let err = prompts
            .render(Role::Implementer, &context(&issue))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("prompt template implementer.md:"), "{err}");
        assert!(err.contains("undefined"), "{err}");
    }
}
