//! Questions an implementer asks: the packet, and the open question or the latest answer an
//! issue's events hold.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Event, EventType, Issue, Status, Timestamp};

/// A question packet (`QUESTION, CONTEXT, FILES, OPTIONS, RECOMMENDED, BLOCKING`), as a
/// `QUESTION_ASKED` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub question: String,
    pub context: String,
    pub files: Vec<String>,
    pub options: Vec<String>,
    pub recommended: String,
    pub blocking: bool,
}

/// A blocking question nobody has answered yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenQuestion {
    #[serde(flatten)]
    pub packet: Question,
    pub asked_at: Timestamp,
}

/// A question and the answer a person gave, as a `QUESTION_ANSWERED` event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// The latest blocking question in `events` (oldest first) if no answer came after it.
pub fn open_question(events: &[Event]) -> Option<OpenQuestion> {
    let last = events
        .iter()
        .rev()
        .find(|e| is_blocking_ask(e) || is_answer(e))?;
    if is_answer(last) {
        return None;
    }
    let packet = serde_json::from_value(last.data.clone()).ok()?;
    Some(OpenQuestion {
        packet,
        asked_at: last.created_at,
    })
}

/// The question `issue` is blocked on: its open question, while it is blocked (a person may
/// have moved it on without answering).
pub fn blocked_on(issue: &Issue, events: &[Event]) -> Option<OpenQuestion> {
    (issue.status == Status::Blocked)
        .then(|| open_question(events))
        .flatten()
}

/// The latest answer in `events`, unless a blocking question came after it.
pub fn last_answer(events: &[Event]) -> Option<Answer> {
    let last = events
        .iter()
        .rev()
        .find(|e| is_blocking_ask(e) || is_answer(e))?;
    if !is_answer(last) {
        return None;
    }
    serde_json::from_value(last.data.clone()).ok()
}

fn is_blocking_ask(event: &Event) -> bool {
    event.event_type == EventType::QuestionAsked
        && event.data.get("blocking").and_then(Value::as_bool) == Some(true)
}

fn is_answer(event: &Event) -> bool {
    event.event_type == EventType::QuestionAnswered
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::IssueId;

    fn event(id: i64, event_type: EventType, data: Value) -> Event {
        Event {
            id,
            issue_id: IssueId::generate(1),
            session_id: None,
            event_type,
            data,
            created_at: Timestamp::from_unix_micros(id * 1_000_000),
        }
    }

    fn asked(id: i64, question: &str, blocking: bool) -> Event {
        let packet = Question {
            question: question.into(),
            context: "c".into(),
            files: vec![],
            options: vec!["a".into()],
            recommended: "a".into(),
            blocking,
        };
        event(
            id,
            EventType::QuestionAsked,
            serde_json::to_value(packet).unwrap(),
        )
    }

    fn answered(id: i64, answer: &str) -> Event {
        event(
            id,
            EventType::QuestionAnswered,
            json!({"question": "q", "answer": answer}),
        )
    }

    #[test]
    fn a_blocking_question_is_open_until_answered() {
        let mut events = vec![asked(1, "which?", true)];
        let open = open_question(&events).unwrap();
        assert_eq!(
            (open.packet.question.as_str(), open.asked_at),
            ("which?", Timestamp::from_unix_micros(1_000_000))
        );
        assert_eq!(last_answer(&events), None);
        events.push(answered(2, "the first"));
        assert_eq!(open_question(&events), None);
        assert_eq!(last_answer(&events).unwrap().answer, "the first");
        events.push(asked(3, "and now?", true));
        assert_eq!(open_question(&events).unwrap().packet.question, "and now?");
        assert_eq!(last_answer(&events), None);
    }

    #[test]
    fn a_question_that_does_not_block_is_never_open() {
        let events = vec![answered(1, "yes"), asked(2, "fyi", false)];
        assert_eq!(open_question(&events), None);
        assert_eq!(last_answer(&events).unwrap().answer, "yes");
        assert_eq!(open_question(&[]), None);
    }
}
