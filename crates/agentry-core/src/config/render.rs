//! Writing a config as the commented config.toml that `agentry init` creates.

use toml::{Table, Value};

use super::{AGENTS_SECTION, Config, NESTED_TABLES, SETTINGS, sections};

/// Every setting with its value and a one-line comment, section by section.
pub fn render(config: &Config) -> String {
    let table = Table::try_from(config).expect("a config serialises to a table");
    let mut text = String::from(
        "# agentry configuration. Every setting can be overridden by an environment variable\n\
         # named SECTION__KEY, for example SCHEDULING__BACKEND=sequential.\n",
    );
    for section in sections() {
        text.push_str(&format!("\n[{section}]\n"));
        let values = table[section].as_table().expect("sections are tables");
        for setting in SETTINGS.iter().filter(|s| s.section == section) {
            let value: &Value = &values[setting.key];
            text.push_str(&format!("# {}\n{} = {}\n", setting.doc, setting.key, value));
        }
        text.push_str(&nested_text(section, values));
    }
    text.push_str(&agents_text(config));
    text
}

/// A section's nested tables as they are set, or a commented example when none is.
fn nested_text(section: &str, values: &Table) -> String {
    let names = NESTED_TABLES.iter().filter(|(s, _)| *s == section);
    let nested: Table = names
        .filter_map(|(_, name)| Some((name.to_string(), values.get(*name)?.clone())))
        .collect();
    match nested.is_empty() {
        true if section == "alerts" => ALERTS_EXAMPLE.to_string(),
        true => String::new(),
        false => {
            let wrapper = Table::from_iter([(section.to_string(), Value::Table(nested))]);
            format!("\n{}", toml::to_string(&wrapper).expect("tables serialise"))
        }
    }
}

const ALERTS_EXAMPLE: &str = r#"
# Routes send some alerts to another webhook: [alerts.routes."alert:ID"] takes one alert,
# [alerts.routes."severity:error"] one severity; the rest go to webhook_url above. For example:
# [alerts.routes."severity:error"]
# webhook_url = "https://events.example.com/v2/enqueue"
# routing_key = "..."
# SLO thresholds: minutes an alert may stay raised before it is sent as breaching its SLO.
# [alerts.slo_thresholds]
# backlog_stale = 120
"#;

/// The configured agents, or a commented example when there are none.
fn agents_text(config: &Config) -> String {
    if config.agents.is_empty() {
        return AGENTS_EXAMPLE.to_string();
    }
    let mut wrapper = Table::new();
    wrapper.insert(
        AGENTS_SECTION.into(),
        Value::try_from(&config.agents).expect("agents serialise"),
    );
    format!("\n{}", toml::to_string(&wrapper).expect("agents serialise"))
}

const AGENTS_EXAMPLE: &str = r#"
# Agents: one [agents.NAME] table each, named by the roles above. For example:
# [agents.impl]
# kind = "command"                 # command | scripted
# command = ["sh", "-c", "..."]    # argv; runs in the issue's worktree, prompt on stdin
# timeout_secs = 1800
# idle_timeout_secs = 300
# env = { KEY = "value" }          # set for this agent
# pass_env = ["PATH", "HOME", "USER", "LANG", "TERM", "TMPDIR"]  # copied from agentry's environment
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;

    #[test]
    fn the_rendered_file_loads_back_to_the_same_config() {
        let mut config = Config::default();
        config.session.base_branch = "trunk".into();
        let text = render(&config);
        assert_eq!(load(&text, Vec::new()).unwrap(), config);
        assert!(
            text.contains("# How many issue sessions may run at once.\nmax_workers = 4\n"),
            "{text}"
        );
    }

    #[test]
    fn configured_agents_render_and_load_back() {
        let file = "[agents.rev]\nkind = \"scripted\"\nscript = \"steps.toml\"\n[roles]\nspec_reviewer = \"rev\"\n";
        let config = load(file, Vec::new()).unwrap();
        assert_eq!(load(&render(&config), Vec::new()).unwrap(), config);
        assert!(render(&Config::default()).contains("# [agents.impl]"));
    }

    #[test]
    fn alert_routes_and_slo_thresholds_render_and_load_back() {
        let file = "[alerts]\nenabled = true\n[alerts.routes.\"severity:error\"]\nwebhook_url = \"https://e.example/x\"\nrouting_key = \"k\"\n[alerts.slo_thresholds]\nbacklog_stale = 120\n";
        let config = load(file, Vec::new()).unwrap();
        assert_eq!(config.alerts.slo_thresholds["backlog_stale"], 120);
        let text = render(&config);
        assert_eq!(load(&text, Vec::new()).unwrap(), config, "{text}");
        assert!(!text.contains("# [alerts.routes"), "{text}");
        let default = render(&Config::default());
        assert!(default.contains("\n[alerts]\n"), "{default}");
        assert!(default.contains("# [alerts.slo_thresholds]\n"), "{default}");
    }

    #[test]
    fn every_field_of_the_config_is_a_documented_setting() {
        let mut table = Table::try_from(Config::default()).unwrap();
        table.remove(AGENTS_SECTION);
        let fields: usize = table.values().map(|s| s.as_table().unwrap().len()).sum();
        assert_eq!(fields, SETTINGS.len());
        for setting in SETTINGS {
            assert!(
                table[setting.section]
                    .as_table()
                    .unwrap()
                    .contains_key(setting.key),
                "{}",
                setting.key
            );
        }
    }

    #[test]
    fn every_choice_a_setting_allows_loads() {
        for setting in SETTINGS {
            if let crate::config::Allowed::Choice(choices) = setting.allowed {
                for choice in choices {
                    let text = format!("[{}]\n{} = \"{choice}\"\n", setting.section, setting.key);
                    assert!(load(&text, Vec::new()).is_ok(), "{text}");
                }
            }
        }
    }
}
