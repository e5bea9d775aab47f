//! Attacks through what agentry prints: secrets in the config, terminal escapes in user text.
