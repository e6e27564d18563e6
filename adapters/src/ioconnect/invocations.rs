//! The invocations of served methods still running, by caller: when the caller's peer leaves
//! the gateway (`peer-removed`), or the connection itself ends, its handlers are told to stop,
//! since no one is left to take the answer.

use std::collections::HashMap;

use codemode_protocol::{InvocationId, PeerId};
use tokio_util::sync::{CancellationToken, DropGuard};

/// Running invocations; dropping this (the session ends) cancels them all.
#[derive(Debug, Default)]
pub(crate) struct RunningInvocations {
    running: HashMap<InvocationId, (Option<PeerId>, DropGuard)>,
}

impl RunningInvocations {
    /// Records a new invocation by `caller`; the token is cancelled when the caller leaves.
    pub(crate) fn start(&mut self, id: InvocationId, caller: Option<PeerId>) -> CancellationToken {
        let token = CancellationToken::new();
        self.running
            .insert(id, (caller, token.clone().drop_guard()));
        token
    }

    /// The invocation answered: forget it without cancelling.
    pub(crate) fn finished(&mut self, id: &InvocationId) {
        if let Some((_, guard)) = self.running.remove(id) {
            guard.disarm();
        }
    }

    /// `peer` left the gateway: cancels its invocations; returns how many.
    pub(crate) fn caller_left(&mut self, peer: &PeerId) -> usize {
        let before = self.running.len();
        // Dropping a removed entry's guard cancels its token.
        self.running
            .retain(|_, (caller, _)| caller.as_ref() != Some(peer));
        before - self.running.len()
    }
}
