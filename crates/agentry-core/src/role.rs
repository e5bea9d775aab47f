//! The roles an agent plays in an issue session.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Implementer,
    Fixer,
    SpecReviewer,
    QualityReviewer,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Implementer,
        Role::Fixer,
        Role::SpecReviewer,
        Role::QualityReviewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Implementer => "implementer",
            Role::Fixer => "fixer",
            Role::SpecReviewer => "spec_reviewer",
            Role::QualityReviewer => "quality_reviewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
