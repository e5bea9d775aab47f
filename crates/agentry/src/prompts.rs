//! The default prompt templates that `agentry init` writes to `.agentry/prompts/`.

/// Each role's template: its file name and text.
pub const DEFAULTS: [(&str, &str); 4] = [
    ("implementer.md", include_str!("../prompts/implementer.md")),
    ("fixer.md", include_str!("../prompts/fixer.md")),
    (
        "spec_reviewer.md",
        include_str!("../prompts/spec_reviewer.md"),
    ),
    (
        "quality_reviewer.md",
        include_str!("../prompts/quality_reviewer.md"),
    ),
];
