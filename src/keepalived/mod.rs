//! keepalived configuration front end: lexer → parser → typed IR → validation, and `rkeepalived`.
pub mod cli;
pub mod ir;
