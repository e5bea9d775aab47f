//! Reading config.toml and the environment into a checked [`Config`].

use std::fmt;

use toml::{Table, Value};

use super::{
    AGENT_KEYS, AGENTS_SECTION, Allowed, Config, NESTED_TABLES, SETTINGS, Setting, agents, sections,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("config.toml is not valid TOML: {0}")]
    Syntax(String),
    #[error("unknown config section `{section}` ({origin}); known sections: {known}")]
    UnknownSection {
        section: String,
        origin: Origin,
        known: String,
    },
    #[error("unknown config key `{section}.{key}` ({origin}); known keys in [{section}]: {known}")]
    UnknownKey {
        section: String,
        key: String,
        origin: Origin,
        known: String,
    },
    #[error("invalid config value {section}.{key} = {value} ({origin}): expected {allowed}")]
    BadValue {
        section: String,
        key: String,
        value: String,
        origin: Origin,
        allowed: String,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Where a value came from, so an error can say where to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    File,
    Env(String),
}

impl Origin {
    /// Where a setting came from, in a word or two: `config.toml` or `env NAME`.
    pub fn source(&self) -> String {
        match self {
            Origin::File => "config.toml".into(),
            Origin::Env(name) => format!("env {name}"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File => f.write_str("in config.toml"),
            Origin::Env(name) => write!(f, "from environment variable {name}"),
        }
    }
}

/// Builds the effective config from the file's text and the environment. Only variables named
/// `SECTION__KEY` for a known section are read; all others are left alone.
pub fn load(
    file_text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table: Table = file_text.parse().map_err(syntax_error)?;
    let mut origins = Vec::new();
    check_file_shape(&table)?;
    for setting in SETTINGS {
        if let Some(value) = section_value(&table, setting) {
            origins.push((setting, Origin::File, value.clone()));
        }
    }
    for (name, text) in env {
        let Some(setting) = env_setting(&name)? else {
            continue;
        };
        let value = env_value(setting, &text, &name)?;
        section_table(&mut table, setting.section).insert(setting.key.into(), value.clone());
        origins.retain(|(s, _, _)| !std::ptr::eq(*s, setting));
        origins.push((setting, Origin::Env(name), value));
    }
    let mut given = std::collections::BTreeMap::new();
    for (setting, origin, value) in origins {
        let name = format!("{}.{}", setting.section, setting.key);
        given.insert(name, origin.source());
        check_value(setting, &value, origin)?;
    }
    let mut config: Config =
        serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
            ConfigError::Invalid(format!(
                "{}: {}",
                e.path(),
                first_line(&e.inner().to_string())
            ))
        })?;
    agents::check(&config.agents, &config.roles).map_err(ConfigError::Invalid)?;
    config
        .lean
        .check(&config.agents)
        .map_err(ConfigError::Invalid)?;
    config
        .planning
        .check(&config.agents)
        .map_err(ConfigError::Invalid)?;
    config
        .alerts
        .validate()
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    config.origins = super::Origins(given);
    Ok(config)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// toml's error in one line: where, then what, without the drawing of the source line.
fn syntax_error(err: toml::de::Error) -> ConfigError {
    let text = err.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let message = match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if first != last => format!("{first}: {last}"),
        _ => text.trim().to_string(),
    };
    ConfigError::Syntax(message)
}

fn check_file_shape(table: &Table) -> Result<(), ConfigError> {
    let mut known_sections = sections();
    known_sections.push(AGENTS_SECTION);
    for (section, value) in table {
        if !known_sections.contains(&section.as_str()) {
            return Err(ConfigError::UnknownSection {
                section: section.clone(),
                origin: Origin::File,
                known: known_sections.join(", "),
            });
        }
        let Value::Table(keys) = value else {
            return Err(ConfigError::BadValue {
                section: section.clone(),
                key: String::new(),
                value: value.to_string(),
                origin: Origin::File,
                allowed: format!("a table [{section}]"),
            });
        };
        if section == AGENTS_SECTION {
            check_agent_tables(keys)?;
        } else if let Some(key) = keys
            .keys()
            .find(|k| find_setting(section, k).is_none() && !is_nested_table(section, k))
        {
            return Err(unknown_key(section, key, Origin::File));
        }
    }
    Ok(())
}

fn check_agent_tables(agents: &Table) -> Result<(), ConfigError> {
    for (name, agent) in agents {
        let Value::Table(keys) = agent else {
            return Err(ConfigError::Invalid(format!(
                "agents.{name} must be a table [agents.{name}]"
            )));
        };
        if let Some(key) = keys.keys().find(|k| !AGENT_KEYS.contains(&k.as_str())) {
            return Err(ConfigError::UnknownKey {
                section: format!("agents.{name}"),
                key: key.clone(),
                origin: Origin::File,
                known: AGENT_KEYS.join(", "),
            });
        }
    }
    Ok(())
}

/// The setting an environment variable names, if it names a known section.
fn env_setting(name: &str) -> Result<Option<&'static Setting>, ConfigError> {
    let Some((section, key)) = name.split_once("__") else {
        return Ok(None);
    };
    let section = section.to_ascii_lowercase();
    if section.is_empty() || !sections().contains(&section.as_str()) {
        return Ok(None);
    }
    let key = key.to_ascii_lowercase();
    find_setting(&section, &key)
        .map(Some)
        .ok_or_else(|| unknown_key(&section, &key, Origin::Env(name.to_string())))
}

/// An environment value typed as its setting expects.
fn env_value(setting: &Setting, text: &str, name: &str) -> Result<Value, ConfigError> {
    let bad = || bad_value(setting, text.to_string(), Origin::Env(name.to_string()));
    match setting.allowed {
        Allowed::Integer { .. } => text.trim().parse().map(Value::Integer).map_err(|_| bad()),
        Allowed::Dollars | Allowed::Fraction => {
            text.trim().parse().map(Value::Float).map_err(|_| bad())
        }
        Allowed::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ => Err(bad()),
        },
        Allowed::Choice(_) | Allowed::NonEmptyText | Allowed::AgentName | Allowed::Text => {
            Ok(Value::String(text.to_string()))
        }
        Allowed::List => Ok(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_string()))
                .collect(),
        )),
    }
}

fn check_value(setting: &Setting, value: &Value, origin: Origin) -> Result<(), ConfigError> {
    let ok = match (setting.allowed, value) {
        (Allowed::Choice(choices), Value::String(s)) => choices.contains(&s.as_str()),
        (Allowed::Integer { min, max }, Value::Integer(n)) => (min..=max).contains(n),
        (Allowed::Dollars, Value::Float(x)) => x.is_finite() && *x >= 0.0,
        (Allowed::Dollars, Value::Integer(n)) => *n >= 0,
        (Allowed::Fraction, Value::Float(x)) => (0.0..=1.0).contains(x),
        (Allowed::Fraction, Value::Integer(n)) => (0..=1).contains(n),
        (Allowed::Bool, Value::Boolean(_)) => true,
        (Allowed::NonEmptyText, Value::String(s)) => !s.trim().is_empty(),
        (Allowed::AgentName | Allowed::Text, Value::String(_)) => true,
        (Allowed::List, Value::Array(items)) => items.iter().all(Value::is_str),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let shown = match (value, &origin) {
        (Value::String(s), Origin::Env(_)) => s.clone(),
        _ => value.to_string(),
    };
    Err(bad_value(setting, shown, origin))
}

fn find_setting(section: &str, key: &str) -> Option<&'static Setting> {
    SETTINGS
        .iter()
        .find(|s| s.section == section && s.key == key)
}

fn is_nested_table(section: &str, key: &str) -> bool {
    NESTED_TABLES.contains(&(section, key))
}

fn section_value<'a>(table: &'a Table, setting: &Setting) -> Option<&'a Value> {
    table.get(setting.section)?.as_table()?.get(setting.key)
}

fn section_table<'a>(table: &'a mut Table, section: &str) -> &'a mut Table {
    let entry = table
        .entry(section)
        .or_insert_with(|| Value::Table(Table::new()));
    entry
        .as_table_mut()
        .expect("sections were checked to be tables")
}

fn unknown_key(section: &str, key: &str, origin: Origin) -> ConfigError {
    let settings = SETTINGS.iter().filter(|s| s.section == section);
    let tables = NESTED_TABLES.iter().filter(|(s, _)| *s == section);
    let known: Vec<&str> = settings
        .map(|s| s.key)
        .chain(tables.map(|(_, table)| *table))
        .collect();
    ConfigError::UnknownKey {
        section: section.to_string(),
        key: key.to_string(),
        origin,
        known: known.join(", "),
    }
}

fn bad_value(setting: &Setting, value: String, origin: Origin) -> ConfigError {
    ConfigError::BadValue {
        section: setting.section.to_string(),
        key: setting.key.to_string(),
        value,
        origin,
        allowed: setting.allowed.describe(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SchedulingBackend;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        assert_eq!(load("", env(&[])).unwrap(), Config::default());
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = "[scheduling]\nbackend = \"async\"\n";
        let config = load(
            file,
            env(&[
                ("SCHEDULING__BACKEND", "sequential"),
                ("PLANNING__ENABLED", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(config.scheduling.backend, SchedulingBackend::Sequential);
        assert!(!config.planning.enabled);
    }

    #[test]
    fn variables_of_unknown_sections_are_not_read() {
        let config = load(
            "",
            env(&[("HOME", "/x"), ("FOO__BAR", "1"), ("SESSION_MANAGER", "x")]),
        )
        .unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn an_unknown_key_is_named_with_the_known_ones() {
        let err = load("[scheduling]\nworkers = 3\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown config key `scheduling.workers` (in config.toml); known keys in [scheduling]: backend, max_workers, lease_secs, shutdown_grace_secs"
        );
        let err = load("", env(&[("SESSION__TRIES", "3")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`session.tries` (from environment variable SESSION__TRIES)"),
            "{err}"
        );
        let err = load("[shedule]\n", env(&[])).unwrap_err().to_string();
        assert!(err.starts_with("unknown config section `shedule`"), "{err}");
    }

    #[test]
    fn a_bad_value_names_key_value_and_what_is_allowed() {
        let err = load("", env(&[("SCHEDULING__BACKEND", "fast")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid config value scheduling.backend = fast (from environment variable SCHEDULING__BACKEND): expected one of: async, sequential"
        );
        let err = load("[scheduling]\nmax_workers = 0\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "scheduling.max_workers = 0 (in config.toml): expected a whole number from 1 to 256"
            ),
            "{err}"
        );
        let err = load("[planning]\nenabled = \"yes\"\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("planning.enabled = \"yes\""), "{err}");
        let err = load("", env(&[("SCHEDULING__MAX_WORKERS", "many")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scheduling.max_workers = many"), "{err}");
    }

    #[test]
    fn agents_are_checked_and_roles_must_name_them() {
        let file = "[agents.impl]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"true\"]\n[roles]\nimplementer = \"impl\"\n";
        let config = load(file, env(&[])).unwrap();
        assert_eq!(config.agents["impl"].timeout_secs, 1800);
        assert_eq!(config.roles.agent_for(crate::Role::Fixer), Some("impl"));
        let err = load("[roles]\nspec_reviewer = \"rev\"\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid config: roles.spec_reviewer = \"rev\" names no agent (configured agents: none)"
        );
        let err = load("[agents.a]\nkind = \"command\"\ncmd = []\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown config key `agents.a.cmd` (in config.toml)"),
            "{err}"
        );
        let err = load("[agents.a]\nkind = \"robot\"\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid config: agents.a.kind: unknown variant `robot`"),
            "{err}"
        );
        let err = load("[agents.a]\nkind = \"command\"\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("agents.a.command: a command agent needs a non-empty argv"),
            "{err}"
        );
    }

    #[test]
    fn an_openai_agent_needs_a_base_url_and_a_model() {
        let table = "[agents.rev]\nkind = \"openai\"\n";
        let with = |extra: &str| load(&format!("{table}{extra}"), env(&[]));
        let config =
            with("base_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\napi_key_env = \"KEY\"\n")
                .unwrap();
        let rev = &config.agents["rev"];
        assert_eq!(rev.kind, crate::config::AgentKind::Openai);
        assert_eq!(rev.api_key_env.as_deref(), Some("KEY"));
        let err = with("model = \"m\"\n").unwrap_err().to_string();
        assert!(
            err.contains("agents.rev.base_url: an openai agent needs"),
            "{err}"
        );
        let err = with("base_url = \"http://x/v1\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("agents.rev.model: an openai agent needs a model"),
            "{err}"
        );
        let pasted = "base_url = \"http://x/v1\"\nmodel = \"m\"\napi_key_env = \"sk-secret1\"\n";
        let err = with(pasted).unwrap_err().to_string();
        assert!(
            err.contains("agents.rev.api_key_env: must be the name"),
            "{err}"
        );
        assert!(!err.contains("sk-secret1"), "{err}");
    }

    #[test]
    fn an_acp_agent_needs_a_program() {
        let table = "[agents.impl]\nkind = \"acp\"\n";
        let with = |extra: &str| load(&format!("{table}{extra}"), env(&[]));
        let config = with("program = \"claude-code-acp\"\n").unwrap();
        assert_eq!(config.agents["impl"].kind, crate::config::AgentKind::Acp);
        let err = with("").unwrap_err().to_string();
        assert!(
            err.contains("agents.impl.program: an acp agent needs the program"),
            "{err}"
        );
    }

    #[test]
    fn a_codex_agent_takes_a_model_provider_only_with_a_base_url() {
        let table = "[agents.impl]\nkind = \"codex\"\nmodel = \"gpt-5.5\"\n";
        let with = |extra: &str| load(&format!("{table}{extra}"), env(&[]));
        let provider = "base_url = \"http://127.0.0.1:9/v1\"\nwire_api = \"responses\"\napi_key_env = \"KEY\"\n";
        let config = with(provider).unwrap();
        let codex = &config.agents["impl"];
        assert_eq!(codex.kind, crate::config::AgentKind::Codex);
        assert_eq!(codex.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(codex.wire_api.as_deref(), Some("responses"));
        assert_eq!(codex.api_key_env.as_deref(), Some("KEY"));
        assert_eq!(with("").unwrap().agents["impl"].wire_api, None);
        let err = with("wire_api = \"responses\"\n").unwrap_err().to_string();
        assert!(
            err.contains("agents.impl.base_url: wire_api and api_key_env"),
            "{err}"
        );
    }

    #[test]
    fn alerts_read_routes_and_thresholds_and_take_scalars_from_the_environment() {
        let file = "[alerts]\nseverity_filter = \"warning\"\n[alerts.routes.\"alert:stale\"]\nwebhook_url = \"http://127.0.0.1:9/a\"\n[alerts.slo_thresholds]\nstale = 30\n";
        let vars = env(&[
            ("ALERTS__ENABLED", "true"),
            ("ALERTS__WEBHOOK_URL", "https://hooks.example/x"),
            ("ALERTS__DEBOUNCE_WINDOW_SECS", "60"),
        ]);
        let alerts = load(file, vars).unwrap().alerts;
        assert!(alerts.enabled);
        assert_eq!(alerts.webhook_url, "https://hooks.example/x");
        assert_eq!(alerts.debounce_window_secs, 60);
        assert_eq!(alerts.severity_filter, crate::alerts::Severity::Warning);
        assert_eq!(
            alerts.routes["alert:stale"].webhook_url,
            "http://127.0.0.1:9/a"
        );
        assert_eq!(alerts.slo_thresholds["stale"], 30);
    }

    #[test]
    fn lean_and_planning_settings_are_checked_naming_the_key() {
        let config = load("[lean]\nmin_heuristic_confidence = 0.9\n", env(&[])).unwrap();
        assert_eq!(config.lean.min_heuristic_confidence, 0.9);
        assert_eq!(config.lean.cooldown_ms, 5_000);
        let err = load("", env(&[("LEAN__MIN_HEURISTIC_CONFIDENCE", "1.5")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lean.min_heuristic_confidence"), "{err}");
        let err = load("[lean]\nmodel_agent = \"gpt\"\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid config: lean.model_agent = \"gpt\" names no agent (configured agents: none)"
        );
        let err = load("", env(&[("PLANNING__AGENT", "gpt")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid config: planning.agent = \"gpt\" names no agent (configured agents: none)"
        );
        let err = load("[planning]\nmax_recursions = 0\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("planning.max_recursions"), "{err}");
    }

    #[test]
    fn broken_alert_options_are_refused_naming_the_key() {
        let refused =
            |file: &str, vars: &[(&str, &str)]| load(file, env(vars)).unwrap_err().to_string();
        assert_eq!(
            refused("", &[("ALERTS__ENABLED", "true")]),
            "invalid config: alerts.webhook_url: alerts are enabled but no webhook is configured: set alerts.webhook_url or add [alerts.routes.NAME] tables"
        );
        let err = refused("[alerts]\ndebounce_window_secs = -5\n", &[]);
        assert!(
            err.contains("alerts.debounce_window_secs = -5 (in config.toml)"),
            "{err}"
        );
        let err = refused("[alerts.slo_thresholds]\nstale = 0\n", &[]);
        assert_eq!(
            err,
            "invalid config: alerts.slo_thresholds.stale: must be more than 0 minutes, got 0"
        );
        let err = refused("[alerts.routes.x]\nrouting_key = \"k\"\n", &[]);
        assert!(
            err.starts_with("invalid config: alerts.routes.x: a route is named"),
            "{err}"
        );
        let err = refused(
            "[alerts.routes.\"severity:error\"]\nrouting_key = \"k\"\n",
            &[],
        );
        assert!(
            err.contains("alerts.routes.severity:error.webhook_url: a route needs a webhook URL"),
            "{err}"
        );
        let err = refused("[alerts.routes.\"alert:a\"]\nurl = \"http://x\"\n", &[]);
        assert!(err.contains("alerts.routes.alert:a"), "{err}");
        assert!(err.contains("unknown field `url`"), "{err}");
        let err = refused("[alerts]\nroute = 1\n", &[]);
        assert!(err.ends_with("known keys in [alerts]: enabled, webhook_url, routing_key, environment, source, debounce_window_secs, severity_filter, check_interval_secs, routes, slo_thresholds"), "{err}");
        let err = refused("", &[("ALERTS__SEVERITY_FILTER", "critical")]);
        assert!(err.contains("alerts.severity_filter = critical"), "{err}");
    }

    #[test]
    fn a_syntax_error_is_one_line() {
        let err = load("[store]\n[store]\n", env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "config.toml is not valid TOML: TOML parse error at line 2, column 2: duplicate key"
        );
        assert!(!err.contains('\n'));
    }
}
