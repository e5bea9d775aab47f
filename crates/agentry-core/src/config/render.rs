//! Writing a config as the commented config.toml that `agentry init` creates.

use toml::{Table, Value};

use super::{Config, SETTINGS, sections};

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
    text
}

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
    fn every_field_of_the_config_is_a_documented_setting() {
        let table = Table::try_from(Config::default()).unwrap();
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
