//! Prompt templates: the built-in ones, and the prompts rendered from the versions the store
//! holds active (see `templates` for how they get there), with strict undefined variables.

use agentry_core::question::Answer;
use agentry_core::{Issue, Role};
use agentry_store::{Store, StoreError};
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

/// A built-in template: its name, the file that replaces it, the role it prompts (none for
/// the planner's), and its text.
#[derive(Clone, Copy, Debug)]
pub struct DefaultTemplate {
    pub name: &'static str,
    pub file: &'static str,
    pub role: Option<Role>,
    pub text: &'static str,
}

const fn for_role(
    role: Role,
    name: &'static str,
    file: &'static str,
    text: &'static str,
) -> DefaultTemplate {
    DefaultTemplate {
        name,
        file,
        role: Some(role),
        text,
    }
}

/// The templates of the session loop's roles.
pub const ROLE_TEMPLATES: [DefaultTemplate; 4] = [
    for_role(
        Role::Implementer,
        "implementer",
        "implementer.md",
        include_str!("../prompts/implementer.md"),
    ),
    for_role(
        Role::Fixer,
        "fixer",
        "fixer.md",
        include_str!("../prompts/fixer.md"),
    ),
    for_role(
        Role::SpecReviewer,
        "spec_reviewer",
        "spec_reviewer.md",
        include_str!("../prompts/spec_reviewer.md"),
    ),
    for_role(
        Role::QualityReviewer,
        "quality_reviewer",
        "quality_reviewer.md",
        include_str!("../prompts/quality_reviewer.md"),
    ),
];

/// The planner's templates: a goal into a plan, and an issue into sub-issues.
pub const PLANNER_TEMPLATES: [DefaultTemplate; 2] = [
    DefaultTemplate {
        name: "planner",
        file: "planner.md",
        role: None,
        text: include_str!("../prompts/planner.md"),
    },
    DefaultTemplate {
        name: "replan",
        file: "replan.md",
        role: None,
        text: include_str!("../prompts/replan.md"),
    },
];

/// Every built-in template.
pub fn defaults() -> impl Iterator<Item = &'static DefaultTemplate> {
    ROLE_TEMPLATES.iter().chain(PLANNER_TEMPLATES.iter())
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("prompt template {name}: {message}")]
    Template { name: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// The active version of each template in the store; a template without one is absent.
    /// Every one is compiled here, so a broken one stops a run before it claims anything.
    pub fn from_store(store: &dyn Store) -> Result<Self, PromptError> {
        let mut env = new_env();
        for version in store.templates()?.into_iter().filter(|v| v.active) {
            let name = version.name;
            env.add_template_owned(name.clone(), version.body)
                .map_err(|e| template_error(&name, &e))?;
        }
        Ok(Self { env })
    }

    pub fn render(&self, role: Role, context: &PromptContext) -> Result<String, PromptError> {
        self.render_named(role_template(role), context)
    }

    /// Whether the template `name` (e.g. `planner`) is there to render.
    pub fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// Renders the template `name` (e.g. `planner`) with any serializable context.
    pub fn render_named(
        &self,
        name: &str,
        context: &impl Serialize,
    ) -> Result<String, PromptError> {
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

/// Whether `text` compiles as a template; the error names it `name`.
pub fn check_template(name: &str, text: &str) -> Result<(), PromptError> {
    new_env()
        .add_template_owned(name.to_string(), text.to_string())
        .map_err(|e| template_error(name, &e))
}

fn role_template(role: Role) -> &'static str {
    ROLE_TEMPLATES
        .iter()
        .find(|template| template.role == Some(role))
        .map(|template| template.name)
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

    fn seeded(dir: Option<&std::path::Path>) -> Prompts {
        let store = agentry_store::SqliteStore::in_memory().unwrap();
        crate::templates::seeded_prompts(&store, dir, Timestamp::from_unix_micros(0)).unwrap()
    }

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
        let prompts = seeded(None);
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
        let prompts = seeded(None);
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
        let prompts = seeded(Some(dir.path()));
        let issue =
            NewIssue::new("t").into_issue(IssueId::generate(3), Timestamp::from_unix_micros(0));
        let err = prompts
            .render(Role::Implementer, &context(&issue))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("prompt template implementer:"), "{err}");
        assert!(err.contains("undefined"), "{err}");
    }
}
