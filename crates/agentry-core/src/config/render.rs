//! Writing a config as the commented config.toml that `agentry init` creates.

use toml::{Table, Value};

use super::{AGENTS_SECTION, Config, SETTINGS, sections};

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
    }
    text.push_str(&agents_text(config));
    text
}

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
