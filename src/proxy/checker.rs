//! Drives health checks: one task per checked server (placeholder until the health module's
//! state machine is wired in).
use std::sync::Arc;

use super::Engine;

pub fn spawn_checks(_engine: &Arc<Engine>) {}
