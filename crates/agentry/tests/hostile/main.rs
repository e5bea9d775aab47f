//! The hostile-input suite: each test is an attack on agentry, by a web page, an agent or
//! another local process, run against the real binary; each failed before the fix it guards.

#[path = "../support/mod.rs"]
mod support;

mod git;
mod http;
mod output;
mod sandbox;
mod store;
