//! haproxy.cfg front end: lexer → parser → typed IR → validation, and the `rhaproxy` CLI.
//!
//! - [`lexer`]: file text → logical lines of words with spans (configuration.txt §2.2–2.5)
//! - [`cond`]: `.if/.elif/.else/.endif` and `.diag/.notice/.warning/.alert`
//! - [`parser`]: sections and keywords → [`ir::Config`] (defaults resolved)
//! - [`validate`]: haproxy's post-parse checks
//! - [`check`]: `rhaproxy -c`
pub mod cli;
pub mod ir;
