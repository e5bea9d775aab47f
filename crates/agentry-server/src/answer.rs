//! `POST /api/v1/tasks/{task_id}/answer` `{answer}`: answers the question a task is blocked
//! on; the task goes back in the queue and its next implementer prompt carries the answer.

use agentry_core::{IssueId, Status, Timestamp};
use agentry_engine::question::{AnswerError, answer_question};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::task::task_id;
use crate::{AppState, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
}

#[derive(Serialize)]
pub struct Answered {
    task_id: IssueId,
    status: Status,
    question: String,
    answer: String,
}

pub async fn answer(
    _: Authorized,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    request: Result<Bytes, BytesRejection>,
) -> Result<Json<Answered>, ApiError> {
    let id = task_id(&raw)?;
    let AnswerBody { answer } = body::json(request)?;
    let answered = state
        .with_store(move |store| {
            let answer = answer_question(store, &id, &answer, Timestamp::now()).map_err(refusal)?;
            Ok(Answered {
                task_id: id,
                status: Status::Open,
                question: answer.question,
                answer: answer.answer,
            })
        })
        .await?;
    state.changed();
    Ok(Json(answered))
}

fn refusal(err: AnswerError) -> ApiError {
    match err {
        AnswerError::Store(err) => err.into(),
        AnswerError::Empty => ApiError::bad_request("answer: must not be empty"),
        no_question @ AnswerError::NoOpenQuestion(..) => {
            ApiError::new(StatusCode::CONFLICT, no_question.to_string())
        }
    }
}
