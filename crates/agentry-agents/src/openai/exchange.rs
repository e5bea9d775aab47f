//! One turn's HTTP exchange: the request, tried again on rate limits and server errors, then
//! the answer read from its event stream.

use std::time::Duration;

use reqwest::Response;
use reqwest::header::ACCEPT;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::OpenAiAgent;
use super::answer::Answer;
use super::lines::Lines;
use super::refusal::Refusal;
use crate::agent::emit;
use crate::{AgentEvent, AgentFailure};

/// Tries of one request: the first and two more.
const TRIES: u32 = 3;
/// The wait before the first retry when the server names none; it doubles for each retry.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

impl OpenAiAgent {
    /// Asks for the completion of `prompt` and reads the answer into `answer`.
    pub(super) async fn exchange(
        &self,
        prompt: &str,
        key: Option<&str>,
        deadline: Instant,
        answer: &mut Answer,
        events: &UnboundedSender<AgentEvent>,
    ) -> Result<(), AgentFailure> {
        let response = self.send(prompt, key, deadline, events).await?;
        self.read(response, answer, events).await
    }

    /// The streamed response, once the server accepts the request.
    async fn send(
        &self,
        prompt: &str,
        key: Option<&str>,
        deadline: Instant,
        events: &UnboundedSender<AgentEvent>,
    ) -> Result<Response, AgentFailure> {
        let body = json!({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 1;
        loop {
            let refusal = match self.post(&body, key).await? {
                Ok(response) => return Ok(response),
                Err(refusal) => refusal,
            };
            let wait = refusal.retry_after.unwrap_or(backoff);
            // A wait past the deadline would only end in a timeout that hides the refusal.
            let again = refusal.retryable() && tries < TRIES && Instant::now() + wait < deadline;
            let mut said = refusal.describe();
            if again {
                said.push_str(&format!(" (trying again in {}s)", wait.as_secs()));
            }
            emit(events, AgentEvent::Error(said));
            if !again {
                return Err(refusal.failure());
            }
            tokio::time::sleep(wait).await;
            backoff *= 2;
            tries += 1;
        }
    }

    /// One try: the response when the server accepts the request, what it said when it
    /// refuses.
    async fn post(
        &self,
        body: &Value,
        key: Option<&str>,
    ) -> Result<Result<Response, Refusal>, AgentFailure> {
        let mut request = self
            .client
            .post(&self.url)
            .header(ACCEPT, "text/event-stream");
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = self.quiet(request.json(body).send()).await?.map_err(|e| {
            AgentFailure::Spawn(format!(
                "cannot reach {}: {}",
                self.url,
                chain(&e.without_url())
            ))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(Ok(response));
        }
        let headers = response.headers().clone();
        // A body cut short still leaves the status to go by.
        let text = self.quiet(response.text()).await?.unwrap_or_default();
        Ok(Err(Refusal::new(status, &headers, &text)))
    }

    /// Reads the event stream to `[DONE]`, or to its end.
    async fn read(
        &self,
        mut response: Response,
        answer: &mut Answer,
        events: &UnboundedSender<AgentEvent>,
    ) -> Result<(), AgentFailure> {
        let mut lines = Lines::default();
        // A connection dropped after the answer ended loses at most the usage.
        while let Ok(Some(bytes)) = self.quiet(response.chunk()).await? {
            for data in lines.push(&bytes) {
                answer
                    .data(&data)?
                    .into_iter()
                    .for_each(|event| emit(events, event));
                if answer.done {
                    return Ok(());
                }
            }
        }
        if answer.ended() {
            Ok(())
        } else {
            Err(AgentFailure::NoResult { exit_code: None })
        }
    }
}

/// An error with its causes: reqwest's own message only says that sending failed, the
/// causes say why (refused, DNS, TLS).
fn chain(error: &dyn std::error::Error) -> String {
    let mut said = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        said.push_str(": ");
        said.push_str(&error.to_string());
        cause = error.source();
    }
    said
}
