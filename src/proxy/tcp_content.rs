//! `tcp-request content` rules of mode http proxies.
//!
//! HAProxy runs them on every request (keep-alive included) once the request head is in:
//! a frontend's before `monitor-uri` and its `http-request` rules, a backend's right after
//! the backend is chosen and before its own `http-request` rules. Layer-7 fetches work;
//! layer-6 ones (`req.len`...) yield nothing, as HAProxy ignores them on HTTP proxies.
//! `accept` stops the evaluation, `reject` closes the connection without a response.
//! The request head is complete when they run, so `tcp-request inspect-delay` never waits.

use std::sync::Arc;

use super::acl::CompiledCond;
use super::ctx::RequestCtx;
use super::runtime::Runtime;
use super::sample::{AuthList, CompileEnv, EvalCtx};
use super::tcp::{compile_tcp, first_verdict, TcpVerdict};
use crate::haproxy::ir;

type Rules = Vec<(TcpVerdict, Option<CompiledCond>)>;

/// Compiled rules of every mode http proxy, by frontend index and by backend index.
#[derive(Debug, Default)]
pub struct HttpContentRules {
    frontends: Vec<Rules>,
    backends: Vec<Rules>,
}

impl HttpContentRules {
    pub fn build(rt: &Runtime) -> Result<HttpContentRules, String> {
        let env = CompileEnv {
            userlists: rt
                .userlists
                .iter()
                .map(|u| Arc::new(AuthList::from_ir(u)))
                .collect(),
        };
        let http = |p: &ir::Proxy| p.mode == ir::ProxyMode::Http;
        let mut out = HttpContentRules::default();
        for fe in &rt.frontends {
            let rules = if http(&fe.cfg) {
                compile_tcp(&fe.cfg.tcp_request_content, &fe.rules.acls, &env)
                    .map_err(|e| format!("Proxy '{}': {e}", fe.name))?
            } else {
                Vec::new()
            };
            out.frontends.push(rules);
        }
        for be in &rt.backends {
            let rules = if http(&be.cfg) {
                compile_tcp(&be.cfg.tcp_request_content, &be.rules.acls, &env)
                    .map_err(|e| format!("Proxy '{}': {e}", be.name))?
            } else {
                Vec::new()
            };
            out.backends.push(rules);
        }
        Ok(out)
    }

    /// True when frontend `index`'s rules reject this request.
    pub fn frontend_rejects(&self, index: usize, ctx: &RequestCtx<'_>) -> bool {
        rejects(self.frontends.get(index), ctx)
    }

    /// True when backend `index`'s rules reject this request.
    pub fn backend_rejects(&self, index: usize, ctx: &RequestCtx<'_>) -> bool {
        rejects(self.backends.get(index), ctx)
    }
}

fn rejects(rules: Option<&Rules>, ctx: &RequestCtx<'_>) -> bool {
    match rules {
        Some(r) if !r.is_empty() => {
            first_verdict(r, &EvalCtx::new(ctx)) == Some(TcpVerdict::Reject)
        }
        _ => false,
    }
}
