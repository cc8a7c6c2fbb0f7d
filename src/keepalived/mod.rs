//! keepalived configuration front end (placeholder until the front-end work lands).
pub mod cli;
