//! Feature flags: switches an operator turns at run time. A flag set through agentry (the CLI
//! or the API) is kept in the store and wins over config.toml and the environment.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::Timestamp;
use crate::config::Config;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    LeanPlanRewrite,
    LeanFieldFallback,
    PlanningEnabled,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown flag {0:?}; flags: lean.plan_rewrite, lean.field_fallback, planning.enabled")]
pub struct UnknownFlag(pub String);

impl Flag {
    pub const ALL: [Flag; 3] = [
        Flag::LeanPlanRewrite,
        Flag::LeanFieldFallback,
        Flag::PlanningEnabled,
    ];

    /// The flag's name, which is also its `section.key` in config.toml.
    pub fn name(self) -> &'static str {
        match self {
            Flag::LeanPlanRewrite => "lean.plan_rewrite",
            Flag::LeanFieldFallback => "lean.field_fallback",
            Flag::PlanningEnabled => "planning.enabled",
        }
    }

    /// The store's state key for a value set at run time.
    pub fn state_key(self) -> String {
        format!("flag:{}", self.name())
    }

    /// The value config.toml and the environment give.
    pub fn configured(self, config: &Config) -> bool {
        match self {
            Flag::LeanPlanRewrite => config.lean.plan_rewrite,
            Flag::LeanFieldFallback => config.lean.field_fallback,
            Flag::PlanningEnabled => config.planning.enabled,
        }
    }

    /// The flag's value and where it came from: the store's, else the config's.
    pub fn resolve(self, config: &Config, stored: Option<(bool, Timestamp)>) -> FlagValue {
        let (enabled, source, updated_at) = match stored {
            Some((enabled, at)) => (enabled, "store".to_string(), Some(at)),
            None => {
                let source = config.origins.get(self.name()).cloned();
                let source = source.unwrap_or_else(|| "default".into());
                (self.configured(config), source, None)
            }
        };
        FlagValue {
            name: self.name(),
            enabled,
            source,
            updated_at,
        }
    }
}

/// A flag's runtime value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlagValue {
    pub name: &'static str,
    pub enabled: bool,
    /// `store` (set through agentry), `config.toml`, `env NAME` or `default`.
    pub source: String,
    /// When it was set through agentry.
    pub updated_at: Option<Timestamp>,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Flag {
    type Err = UnknownFlag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flag::ALL
            .into_iter()
            .find(|flag| flag.name() == s)
            .ok_or_else(|| UnknownFlag(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;

    #[test]
    fn the_store_wins_over_the_environment_which_wins_over_the_file() {
        let file = "[planning]\nenabled = false\n";
        let config = load(file, []).unwrap();
        let from_file = Flag::PlanningEnabled.resolve(&config, None);
        assert_eq!(
            (from_file.enabled, from_file.source.as_str()),
            (false, "config.toml")
        );

        let env = [("PLANNING__ENABLED".to_string(), "true".to_string())];
        let config = load(file, env).unwrap();
        let from_env = Flag::PlanningEnabled.resolve(&config, None);
        assert_eq!(
            (from_env.enabled, from_env.source.as_str()),
            (true, "env PLANNING__ENABLED")
        );

        let at = Timestamp::from_unix_micros(0);
        let stored = Flag::PlanningEnabled.resolve(&config, Some((false, at)));
        assert_eq!((stored.enabled, stored.source.as_str()), (false, "store"));
        assert_eq!(stored.updated_at, Some(at));
    }

    #[test]
    fn lean_flags_default_off_and_names_round_trip() {
        let config = load("", []).unwrap();
        let value = Flag::LeanPlanRewrite.resolve(&config, None);
        assert_eq!((value.enabled, value.source.as_str()), (false, "default"));
        for flag in Flag::ALL {
            assert_eq!(flag.name().parse::<Flag>(), Ok(flag));
        }
        assert!(
            "lean"
                .parse::<Flag>()
                .unwrap_err()
                .to_string()
                .contains("planning.enabled")
        );
    }
}
