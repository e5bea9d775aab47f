//! Reading a question packet out of an implementer's answer, with the lean parse (heuristics
//! only), and answering an issue's open question.

use agentry_core::question::{Answer, OpenQuestion, Question, blocked_on};
use agentry_core::session::Asked;
use agentry_core::{EventType, IssueId, Status, Timestamp};
use agentry_lean::{PacketKind, QuestionPacket, parse};
use agentry_store::{Store, StoreError};

/// The question packet in `answer`, if it has a QUESTION: complete, or with the required
/// fields it lacks (missing or unreadable). None for an answer without one.
pub fn read_question(answer: &str) -> Option<Asked> {
    let result = parse(PacketKind::Question.schema(), answer).ok()?;
    let question = result.packet.get("question")?.as_str()?.to_string();
    if let Ok(packet) = result.to_packet::<QuestionPacket>() {
        return Some(Asked::Complete(from_packet(packet)));
    }
    let mut missing = result.missing.clone();
    for violation in &result.invalid {
        let field = violation.pointer.trim_start_matches('/');
        let field = field.split('/').next().unwrap_or_default().to_string();
        if !field.is_empty() && !missing.contains(&field) {
            missing.push(field);
        }
    }
    Some(Asked::Incomplete { question, missing })
}

fn from_packet(packet: QuestionPacket) -> Question {
    Question {
        question: packet.question,
        context: packet.context,
        files: packet.files,
        options: packet.options,
        recommended: packet.recommended,
        blocking: packet.blocking,
    }
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("{0} has no open question to answer (it is {1})")]
    NoOpenQuestion(IssueId, Status),
    #[error("the answer is empty")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The question an issue is blocked on, if it is blocked on one.
pub fn issue_question(store: &dyn Store, id: &IssueId) -> Result<Option<OpenQuestion>, StoreError> {
    Ok(blocked_on(&store.issue(id)?, &store.events(id)?))
}

/// Answers the question `id` is blocked on: the issue goes back to the queue and the answer
/// (a `QUESTION_ANSWERED` event) goes into its next implementer prompt.
pub fn answer_question(
    store: &dyn Store,
    id: &IssueId,
    text: &str,
    now: Timestamp,
) -> Result<Answer, AnswerError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AnswerError::Empty);
    }
    let Some(open) = issue_question(store, id)? else {
        return Err(AnswerError::NoOpenQuestion(
            id.clone(),
            store.issue(id)?.status,
        ));
    };
    let answer = Answer {
        question: open.packet.question,
        answer: text.to_string(),
    };
    let data = serde_json::to_value(&answer).expect("an answer serialises");
    store.append_event(id, EventType::QuestionAnswered, &data, now)?;
    store.set_status(id, Status::Open, "question answered", now)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &str = "QUESTION: Which greeting?\nCONTEXT: The issue does not say.\n\
        FILES: greet.txt\nOPTIONS:\n- hello\n- hi\nRECOMMENDED: hello\nBLOCKING: yes\n";

    #[test]
    fn a_whole_packet_is_a_complete_question() {
        let Some(Asked::Complete(question)) = read_question(PACKET) else {
            panic!("not a complete question");
        };
        assert_eq!(question.question, "Which greeting?");
        assert_eq!(question.options, ["hello", "hi"]);
        assert!(question.blocking);
    }

    #[test]
    fn a_packet_without_options_names_what_it_lacks() {
        let text = "QUESTION: Which greeting?\nBLOCKING: yes\n";
        let Some(Asked::Incomplete { question, missing }) = read_question(text) else {
            panic!("not an incomplete question");
        };
        assert_eq!(question, "Which greeting?");
        for field in ["context", "options", "recommended"] {
            assert!(missing.contains(&field.to_string()), "{missing:?}");
        }
    }

    #[test]
    fn a_report_is_not_a_question() {
        for text in [
            "Wrote done.txt and ran the tests.",
            "",
            "What changed: greet.txt. Checked: sh test.sh.",
        ] {
            assert_eq!(read_question(text), None, "{text}");
        }
    }
}
