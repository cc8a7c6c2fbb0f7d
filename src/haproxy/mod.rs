//! haproxy.cfg front end: lexer → parser → typed IR → validation, and the `rhaproxy` CLI.
//!
//! - [`lexer`]: file text → logical lines of words with spans (configuration.txt §2.2–2.5)
//! - [`cond`]: `.if/.elif/.else/.endif` expressions
//! - [`parser`]: sections and keywords → [`ir::Config`] (defaults resolved)
//! - [`catalogue`]: the keyword catalogue (grammar/haproxy-keywords.tsv)
//! - [`validate`]: haproxy's post-parse checks
//! - [`check`]: loading files and `rhaproxy -c`
//! - [`printer`]: IR → configuration text (`--dump`)
pub mod catalogue;
pub mod check;
pub mod cli;
pub mod cond;
pub mod engine_support;
pub mod fuzzing;
pub mod ir;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod validate;
