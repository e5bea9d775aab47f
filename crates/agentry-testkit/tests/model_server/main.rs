//! The model server seen from the wire, through a bare HTTP client.

mod anthropic;
mod failures;
mod openai;
mod raw_http;
mod responses;
