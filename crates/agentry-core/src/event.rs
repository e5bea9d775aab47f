//! Events: the append-only record of everything that happened to an issue.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{IssueId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    IssueCreated,
    IssueImported,
    IssueUpdated,
    StatusChanged,
    LinkAdded,
    LinkRemoved,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown event type {0:?}")]
pub struct EventTypeError(pub String);

impl EventType {
    const ALL: [EventType; 6] = [
        EventType::IssueCreated,
        EventType::IssueImported,
        EventType::IssueUpdated,
        EventType::StatusChanged,
        EventType::LinkAdded,
        EventType::LinkRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::IssueCreated => "ISSUE_CREATED",
            EventType::IssueImported => "ISSUE_IMPORTED",
            EventType::IssueUpdated => "ISSUE_UPDATED",
            EventType::StatusChanged => "STATUS_CHANGED",
            EventType::LinkAdded => "LINK_ADDED",
            EventType::LinkRemoved => "LINK_REMOVED",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = EventTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| EventTypeError(s.to_string()))
    }
}

/// An event before the store has numbered it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub issue_id: IssueId,
    pub event_type: EventType,
    pub data: Value,
}

/// A stored event. `id` grows with every event the store appends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    pub issue_id: IssueId,
    pub event_type: EventType,
    pub data: Value,
    pub created_at: Timestamp,
}
