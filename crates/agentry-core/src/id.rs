//! Issue ids: `i-` followed by lowercase base36.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const PREFIX: &str = "i-";
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Length of a generated id's base36 part: 36^6 ≈ 2.2e9 values; the store retries on a clash.
const GENERATED_LEN: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssueId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an issue id: {0:?} (expected `i-` followed by lowercase letters and digits)")]
pub struct IssueIdError(pub String);

impl IssueId {
    /// Builds a fresh id from a random number supplied by the caller.
    pub fn generate(mut random: u64) -> Self {
        let mut id = String::with_capacity(PREFIX.len() + GENERATED_LEN);
        id.push_str(PREFIX);
        for _ in 0..GENERATED_LEN {
            id.push(ALPHABET[(random % 36) as usize] as char);
            random /= 36;
        }
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IssueId {
    type Err = IssueIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.strip_prefix(PREFIX).is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= 32 && rest.bytes().all(|b| ALPHABET.contains(&b))
        });
        if valid {
            Ok(Self(s.to_string()))
        } else {
            Err(IssueIdError(s.to_string()))
        }
    }
}

impl fmt::Display for IssueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl Serialize for IssueId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IssueId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        for random in [0, 1, 35, 36, u64::MAX] {
            let id = IssueId::generate(random);
            assert_eq!(id.as_str().parse::<IssueId>().unwrap(), id);
            assert_eq!(id.as_str().len(), 8);
        }
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in ["", "i-", "x-abc", "i-ABC", "i-a_b", "bd-12"] {
            assert!(bad.parse::<IssueId>().is_err(), "{bad} should be refused");
        }
        assert!("i-dry1".parse::<IssueId>().is_ok());
    }
}
