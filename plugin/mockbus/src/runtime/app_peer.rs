//! One in-process app peer at work: answering invocations with its behaviour and faults,
//! starting declared apps for intents, and serving its streams.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use codemode_protocol::{
    InvocationId, PeerId, RequestId, SubscriptionId,
    dates::format_t42_date,
    gw3::{
        Accepted, AddInterest, Domain, Envelope, ErrorMessage, Gw3Message, Invoke, Publish, Yield,
        reasons,
    },
};

use crate::{
    behaviour::{self, Behaviour, Failure},
    gateway::ConnId,
};

use super::{AppPeer, Handler, Runtime, lock};

impl AppPeer {
    pub(super) async fn run(mut self, mut inbox: mpsc::Receiver<Vec<Gw3Message>>) {
        loop {
            tokio::select! {
                batch = inbox.recv() => match batch {
                    Some(batch) => {
                        for message in batch {
                            if !self.on_message(message) {
                                self.stop();
                                return;
                            }
                        }
                    }
                    None => break,
                },
                () = self.token.cancelled() => break,
            }
        }
        self.stop();
    }

    fn stop(&mut self) {
        for (_, (_, ticker)) in self.branches.drain() {
            ticker.cancel();
        }
        self.token.cancel();
        lock(&self.runtime.gateway).close_connection(self.conn);
        self.runtime.forget(self.conn);
    }

    /// Handles one message; false when the peer must leave.
    fn on_message(&mut self, message: Gw3Message) -> bool {
        match message {
            Gw3Message::Invoke(invoke) => self.on_invoke(invoke),
            Gw3Message::AddInterest(interest) => {
                self.on_add_interest(interest);
                true
            }
            Gw3Message::RemoveInterest(interest) => {
                self.release(&interest.subscription_id);
                true
            }
            Gw3Message::SubscriptionCancelled(_) | Gw3Message::Success(_) => true,
            Gw3Message::Error(error) => {
                tracing::debug!(peer = %self.peer, reason = ?error.reason, "gateway error for an in-process app");
                true
            }
            other => {
                tracing::trace!(
                    message_type = other.message_type(),
                    "ignored by an in-process app"
                );
                true
            }
        }
    }

    fn on_invoke(&mut self, invoke: Invoke) -> bool {
        let Some(handler) = self.handlers.get(&invoke.method_id.key()).cloned() else {
            self.send(failure_reply(
                &self.peer,
                &invoke.invocation_id,
                &Failure::client(format!(
                    "no method with id {} is served here",
                    invoke.method_id
                )),
            ));
            return true;
        };
        let fault = self.runtime.fault(handler.name()).unwrap_or_default();
        let behaviour = match &handler {
            Handler::App { behaviour, .. } => Some(behaviour.as_ref()),
            _ => None,
        };
        if fault.kill_peer || matches!(behaviour, Some(Behaviour::Crash)) {
            tracing::info!(peer = %self.peer, method = handler.name(), "peer leaves mid-call (fault)");
            return false;
        }
        if fault.never_reply || matches!(behaviour, Some(Behaviour::Hang)) {
            tracing::debug!(method = handler.name(), "not replying (fault)");
            return true;
        }
        let mut arguments = invoke.arguments_kv.unwrap_or_default();
        // As `@interopio/core` does: io.Insights trace info never reaches the handler.
        codemode_protocol::trace::strip_trace_info(&mut arguments);
        let (outcome, after) = match &handler {
            Handler::App {
                behaviour, returns, ..
            } => {
                let outcome = {
                    let mut store = lock(&self.runtime.store);
                    behaviour::execute(behaviour, &arguments, returns.as_deref(), &mut store)
                };
                (outcome, None)
            }
            Handler::GetApplications => {
                let with_intents = arguments
                    .get("withIntentsInfo")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                (Ok(self.runtime.applications(with_intents)), None)
            }
            Handler::StartApplication => self.start_application(&arguments),
            Handler::PrefsGet => (Ok(self.runtime.prefs_get(&arguments)), None),
            Handler::PrefsSet => (Ok(self.runtime.prefs_set(&arguments)), None),
        };
        let latency = fault.latency.unwrap_or(match &handler {
            Handler::App { latency, .. } => *latency,
            _ => Duration::ZERO,
        });
        let reply = match outcome {
            Ok(result) => success_reply(&self.peer, invoke.invocation_id, result),
            Err(failure) => failure_reply(&self.peer, &invoke.invocation_id, &failure),
        };
        if latency.is_zero() {
            self.send(reply);
        } else {
            let runtime = Arc::clone(&self.runtime);
            let token = self.token.clone();
            let conn = self.conn;
            self.runtime.tracker.spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(latency) => lock(&runtime.gateway).handle(conn, reply),
                    () = token.cancelled() => {}
                }
            });
        }
        if let Some(start) = after {
            start();
        }
        true
    }

    /// `T42.ACS.StartApplication {Name, options?}` → `{Id, Name}`. With a start delay the
    /// reply comes first and the app starts afterwards, as io.Connect Desktop does.
    #[expect(clippy::type_complexity, reason = "a one-off deferred action")]
    fn start_application(
        &self,
        arguments: &Map<String, Value>,
    ) -> (Result<Value, Failure>, Option<Box<dyn FnOnce() + Send>>) {
        let requested = arguments
            .get("Name")
            .or_else(|| arguments.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let runtime = &self.runtime;
        let Some(app) = runtime.find_app(&requested) else {
            return (
                Err(Failure::client(format!(
                    "Application \"{requested}\" not found"
                ))),
                None,
            );
        };
        if !app.allow_multiple
            && let Some(existing) = runtime.running_instances(&app.name).into_iter().next()
        {
            return (Ok(json!({ "Id": existing, "Name": app.name })), None);
        }
        if runtime.start_delay.is_zero() {
            return match runtime.start_instance(&app, None) {
                Ok((_, instance)) => (Ok(json!({ "Id": instance, "Name": app.name })), None),
                Err(reason) => (Err(Failure::client(reason)), None),
            };
        }
        let number = runtime.next_instance.fetch_add(1, Ordering::Relaxed) + 1;
        let instance = format!(
            "{}-{number}",
            app.name.to_ascii_lowercase().replace(' ', "-")
        );
        let reply = json!({ "Id": instance, "Name": app.name });
        let runtime = Arc::clone(runtime);
        let delay = runtime.start_delay;
        let start = Box::new(move || {
            let tracker = runtime.tracker.clone();
            let token = runtime.shutdown.clone();
            tracker.spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {
                        if let Err(reason) = runtime.start_instance(&app, Some(instance)) {
                            tracing::warn!(%reason, "starting an app on demand failed");
                        }
                    }
                    () = token.cancelled() => {}
                }
            });
        });
        (Ok(reply), Some(start))
    }

    fn on_add_interest(&mut self, interest: AddInterest) {
        let stream_spec = match self.handlers.get(&interest.method_id.key()) {
            Some(Handler::App { behaviour, .. }) => match behaviour.as_ref() {
                Behaviour::PriceStream {
                    dataset,
                    key_arg,
                    key_field,
                    not_found,
                } => Some((
                    dataset.clone(),
                    key_arg.clone(),
                    key_field.clone(),
                    not_found.clone(),
                )),
                _ => None,
            },
            _ => None,
        };
        let Some((dataset, key_arg, key_field, not_found)) = stream_spec else {
            self.reject(
                &interest.subscription_id,
                format!(
                    "Method with id {} does not support streaming",
                    interest.method_id
                ),
            );
            return;
        };
        let arguments = interest.arguments_kv.unwrap_or_default();
        let key = arguments
            .get(&key_arg)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let record = {
            let store = lock(&self.runtime.store);
            store
                .records(&dataset)
                .iter()
                .find(|record| {
                    record
                        .get(&key_field)
                        .and_then(Value::as_str)
                        .is_some_and(|value| !key.is_empty() && value.eq_ignore_ascii_case(&key))
                })
                .cloned()
        };
        let Some(record) = record else {
            self.reject(
                &interest.subscription_id,
                behaviour::fill(&not_found, &arguments),
            );
            return;
        };
        let stream = record
            .get(&key_field)
            .and_then(Value::as_str)
            .unwrap_or(&key)
            .to_owned();
        self.send(Gw3Message::Accepted(Accepted {
            envelope: Envelope {
                domain: Some(Domain::Agm),
                peer_id: Some(self.peer.clone()),
                ..Envelope::default()
            },
            subscription_id: interest.subscription_id.clone(),
            stream_id: Some(stream.clone()),
        }));
        self.subscriptions
            .insert(interest.subscription_id, stream.clone());
        if let Some((count, _)) = self.branches.get_mut(&stream) {
            *count += 1;
            return;
        }
        let ticker = self.token.child_token();
        self.branches.insert(stream.clone(), (1, ticker.clone()));
        self.runtime.tracker.spawn(publish_prices(
            Arc::clone(&self.runtime),
            self.conn,
            self.peer.clone(),
            stream,
            record,
            ticker,
        ));
    }

    fn release(&mut self, subscription: &SubscriptionId) {
        let Some(stream) = self.subscriptions.remove(subscription) else {
            return;
        };
        let finished = match self.branches.get_mut(&stream) {
            Some((count, _)) => {
                *count = count.saturating_sub(1);
                *count == 0
            }
            None => false,
        };
        if finished && let Some((_, ticker)) = self.branches.remove(&stream) {
            ticker.cancel();
        }
    }

    fn reject(&self, subscription: &SubscriptionId, reason: String) {
        self.send(Gw3Message::Error(ErrorMessage {
            domain: Some(Domain::Agm),
            request_id: Some(RequestId::new(subscription.as_str())),
            peer_id: Some(self.peer.clone()),
            reason_uri: Some(reasons::SUBSCRIPTION_FAILURE.into()),
            reason: Some(reason),
            context: None,
        }));
    }

    fn send(&self, message: Gw3Message) {
        lock(&self.runtime.gateway).handle(self.conn, message);
    }
}

/// Publishes a simulated price on `stream` every interval until `stop` is cancelled.
async fn publish_prices(
    runtime: Arc<Runtime>,
    conn: ConnId,
    peer: PeerId,
    stream: String,
    record: Value,
    stop: CancellationToken,
) {
    let base = record.get("last").and_then(Value::as_f64).unwrap_or(100.0);
    let spread = (base * 0.0004).max(0.0001);
    let mut interval = tokio::time::interval(runtime.stream_interval);
    let mut tick: u32 = 0;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = stop.cancelled() => return,
        }
        tick = tick.wrapping_add(1);
        let last = round4(base * (1.0 + 0.002 * (f64::from(tick) * 0.7).sin()));
        let data = json!({
            "symbol": stream,
            "last": last,
            "bid": round4(last - spread / 2.0),
            "ask": round4(last + spread / 2.0),
            "time": format_t42_date(now_ms()),
        });
        lock(&runtime.gateway).handle(
            conn,
            Gw3Message::Publish(Publish {
                envelope: Envelope {
                    domain: Some(Domain::Agm),
                    peer_id: Some(peer.clone()),
                    ..Envelope::default()
                },
                stream_id: Some(stream.clone()),
                data,
            }),
        );
    }
}

fn success_reply(peer: &PeerId, invocation_id: InvocationId, result: Value) -> Gw3Message {
    let result = match result {
        Value::Object(_) => result,
        Value::Null => Value::Object(Map::new()),
        other => json!({ "_value": other }),
    };
    Gw3Message::Yield(Yield {
        envelope: Envelope {
            domain: Some(Domain::Agm),
            request_id: None,
            peer_id: Some(peer.clone()),
            ..Envelope::default()
        },
        invocation_id,
        result: Some(result),
    })
}

fn failure_reply(peer: &PeerId, invocation_id: &InvocationId, failure: &Failure) -> Gw3Message {
    Gw3Message::Error(ErrorMessage {
        domain: Some(Domain::Agm),
        request_id: Some(RequestId::new(invocation_id.as_str())),
        peer_id: Some(peer.clone()),
        reason_uri: Some(failure.reason_uri.clone()),
        reason: Some(failure.reason.clone()),
        context: Some(failure.context.clone()),
    })
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(0))
}
