//! Prompt templates kept in the store: every text a template has had, numbered 1.. per name,
//! with at most one version of a name active (the one prompts are rendered from).

use std::fmt;
use std::str::FromStr;

use agentry_core::Timestamp;
use serde::Serialize;

/// Where a version's text came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// The built-in text.
    Default,
    /// A file in the project's prompts folder.
    File,
    /// Given through the HTTP API.
    Api,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown template source {0:?}")]
pub struct TemplateSourceParseError(String);

impl TemplateSource {
    pub const ALL: [TemplateSource; 3] = [
        TemplateSource::Default,
        TemplateSource::File,
        TemplateSource::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateSource::Default => "default",
            TemplateSource::File => "file",
            TemplateSource::Api => "api",
        }
    }
}

impl fmt::Display for TemplateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for TemplateSource {
    type Err = TemplateSourceParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TemplateSource::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or_else(|| TemplateSourceParseError(s.to_string()))
    }
}

/// One version of a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateVersion {
    pub name: String,
    /// 1 for a name's first text, one more for each new text.
    pub version: u32,
    pub body: String,
    pub source: TemplateSource,
    pub active: bool,
    pub created_at: Timestamp,
}

/// What adding a text to a template did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddedTemplate {
    /// The version holding the text: the new one, or the earlier one with the same text.
    pub version: u32,
    /// Whether the text was new (and its version is now the active one).
    pub new: bool,
}
