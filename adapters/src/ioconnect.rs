//! The io.Connect Desktop adapter: GW3 over WebSocket.
//!
//! [`IoConnectBus::connect`] returns once the gateway has streamed the whole catalogue (the
//! join's `success`) and the declared apps were read from `T42.ACS.GetApplications`. Calls are
//! routed client-side (the gateway has no targeting and no timeouts): "best" prefers a local
//! server, "all" fans out one call per server, a filter matches identities. Intents follow
//! io.Connect's own algorithm: a running handler first, else start the app through
//! `T42.ACS.StartApplication` and wait for its handler to register.

mod channels;
mod config;
mod connection;
mod invocations;
mod state;
mod streams;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use futures_util::future::join_all;
use serde_json::{Map, Value, json};
use tokio::{
    sync::{broadcast, oneshot, watch},
    time::Instant,
};

use codemode_protocol::{
    ProtocolError,
    gw3::{Gw3Message, INTENT_METHOD_PREFIX, Identity, reasons},
};

pub use self::config::{DEFAULT_GATEWAY_URL, IoConnectConfig, STARTING_CONTEXT_VAR};
use self::{
    connection::{Command, Gateway, Shared, error_text},
    state::{Endpoint, parse_declared_apps},
};
use crate::{
    bus::{Bus, Invoke, RaiseIntent, Serve},
    error::BusError,
    link::{Backoff, Link, LinkConfig},
    model::{
        BusEvent, CallOptions, Catalogue, IntentHandler, IntentRequest, IntentResolution,
        MethodHandler, ServedMethod, ServerReply, Target,
    },
};

/// The platform method listing the apps io.Connect can start, with their intents.
const GET_APPLICATIONS: &str = "T42.ACS.GetApplications";
/// The platform method that starts an app.
const START_APPLICATION: &str = "T42.ACS.StartApplication";

/// A connection to an io.Connect gateway. Cheap to share behind an `Arc`; dropping every
/// handle (or calling [`Bus::close`]) ends the socket task.
pub struct IoConnectBus {
    link: Link<Command>,
    shared: Arc<Shared>,
    config: Arc<IoConnectConfig>,
    identity: watch::Receiver<Identity>,
    /// The channel this plugin joined (`channels.join`), by name.
    channel: std::sync::Mutex<Option<String>>,
}

impl IoConnectBus {
    /// Connects, logs in and waits for the full catalogue.
    pub async fn connect(config: IoConnectConfig) -> Result<Self, BusError> {
        let config = Arc::new(config);
        let shared = Arc::new(Shared::new());
        let (gateway, identity) = Gateway::new(Arc::clone(&config), Arc::clone(&shared));
        let link_config = LinkConfig {
            url: config.url.clone(),
            connect_timeout: config.connect_timeout,
            reconnect: config.reconnect,
            backoff: Backoff {
                initial: config.reconnect_initial_delay,
                max: config.reconnect_max_delay,
            },
            max_frame_bytes: config.max_frame_bytes,
            tls: config.tls.clone(),
        };
        let link = Link::start(gateway, link_config, shared.events.clone()).await?;
        let bus = Self {
            link,
            shared,
            config,
            identity,
            channel: std::sync::Mutex::new(None),
        };
        bus.refresh_declared_apps().await;
        bus.spawn_resync_on_reconnect();
        Ok(bus)
    }

    /// Our identity as the gateway resolved it (with `user`, `instance`…).
    pub fn identity(&self) -> Identity {
        self.identity.borrow().clone()
    }

    /// Whether the socket is up right now.
    pub fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    /// Re-reads the apps io.Connect declares (and their intents) from the platform.
    pub async fn refresh_declared_apps(&self) {
        refresh_declared_apps(&self.link, &self.shared, &self.config).await;
    }

    fn spawn_resync_on_reconnect(&self) {
        let mut events = self.shared.events.subscribe();
        // Weak, so that dropping every handle of the bus closes the command channel and ends
        // the socket task (a strong sender here kept the connection open forever).
        let link = self.link.downgrade();
        let shared = Arc::downgrade(&self.shared);
        let config = Arc::clone(&self.config);
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(BusEvent::Reconnected { .. }) => {
                        let (Some(shared), Some(link)) = (shared.upgrade(), link.upgrade()) else {
                            return;
                        };
                        refresh_declared_apps(&link, &shared, &config).await;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                if link.is_abandoned() {
                    return;
                }
            }
        });
    }

    /// Waits until `name` has servers matching `target`, or `wait` passes.
    async fn endpoints(
        &self,
        name: &str,
        target: &Target,
        wait: Duration,
    ) -> Result<Vec<Endpoint>, BusError> {
        let deadline = Instant::from_std(codemode_protocol::correlation::saturating_deadline(
            std::time::Instant::now(),
            wait,
        ));
        let mut generations = self.shared.generation.subscribe();
        loop {
            let offered = self
                .shared
                .table
                .read()
                .map(|table| table.endpoints(name))
                .unwrap_or_default();
            let matching: Vec<Endpoint> = offered
                .iter()
                .filter(|endpoint| target.matches(&endpoint.server))
                .cloned()
                .collect();
            if !matching.is_empty() {
                return Ok(match target {
                    Target::Best => best(matching).into_iter().collect(),
                    Target::All | Target::Filter(_) => matching,
                });
            }
            let error = if offered.is_empty() {
                BusError::MethodNotFound {
                    method: name.to_owned(),
                }
            } else {
                BusError::NoMatchingServer {
                    method: name.to_owned(),
                    target: target.to_string(),
                }
            };
            if !self.is_connected() && wait.is_zero() {
                return Err(BusError::Disconnected { reason: None });
            }
            match tokio::time::timeout_at(deadline, generations.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Err(error),
            }
        }
    }
}

fn best(mut endpoints: Vec<Endpoint>) -> Option<Endpoint> {
    let local = endpoints
        .iter()
        .position(|endpoint| endpoint.server.local)
        .unwrap_or(0);
    (local < endpoints.len()).then(|| endpoints.swap_remove(local))
}

/// Sends one call through the socket task and maps the reply.
async fn call(
    link: &Link<Command>,
    method: &str,
    endpoint: &Endpoint,
    arguments: Map<String, Value>,
    timeout: Duration,
) -> Result<Value, BusError> {
    let (responder, reply) = oneshot::channel();
    let command = Command::Call {
        server_id: codemode_protocol::PeerId::new(endpoint.server.peer_id.clone()),
        method_id: endpoint.method_id.clone(),
        arguments,
        timeout,
        responder,
    };
    let gone = || BusError::Disconnected {
        reason: Some("the bus connection is closed".into()),
    };
    link.send(command).await.map_err(|_| gone())?;
    let outcome = reply.await.map_err(|_| gone())?;
    match outcome {
        Ok(Gw3Message::Result(result)) => Ok(unwrap_value(result.result)),
        Ok(Gw3Message::Error(error)) => {
            let reason = error_text(&error);
            if reason == reasons::PEER_LEFT_REASON {
                return Err(BusError::PeerLeft {
                    method: method.to_owned(),
                });
            }
            Err(BusError::InvocationFailed {
                method: method.to_owned(),
                reason_uri: error.reason_uri,
                reason,
                context: error.context,
            })
        }
        Ok(other) => Err(BusError::InvocationFailed {
            method: method.to_owned(),
            reason_uri: None,
            reason: format!("unexpected `{}` reply", other.message_type()),
            context: None,
        }),
        Err(ProtocolError::Timeout { after }) => Err(BusError::Timeout {
            method: method.to_owned(),
            after,
        }),
        Err(ProtocolError::Closed { reason }) => Err(BusError::Disconnected { reason }),
        Err(other) => Err(BusError::Protocol(other)),
    }
}

/// JavaScript servers wrap non-object results as `{"_value": x}`; callers want `x`.
fn unwrap_value(result: Value) -> Value {
    match result {
        Value::Object(mut object) if object.len() == 1 && object.contains_key("_value") => {
            object.remove("_value").unwrap_or(Value::Null)
        }
        other => other,
    }
}

async fn refresh_declared_apps(link: &Link<Command>, shared: &Shared, config: &IoConnectConfig) {
    let endpoints = shared
        .table
        .read()
        .map(|table| table.endpoints(GET_APPLICATIONS))
        .unwrap_or_default();
    let Some(endpoint) = best(endpoints) else {
        return;
    };
    let mut arguments = Map::new();
    arguments.insert("withIntentsInfo".into(), Value::Bool(true));
    match call(
        link,
        GET_APPLICATIONS,
        &endpoint,
        arguments,
        config.call_timeout,
    )
    .await
    {
        Ok(result) => {
            let apps = parse_declared_apps(&result);
            tracing::debug!(apps = apps.len(), "read declared applications");
            let changed = shared.update_table(|table| {
                let before = table.generation();
                table.set_declared_apps(apps);
                table.generation() != before
            });
            if changed {
                let _ = shared.events.send(BusEvent::CatalogueChanged {
                    generation: *shared.generation.borrow(),
                });
            }
        }
        Err(error) => tracing::warn!(%error, "could not read declared applications"),
    }
}

#[async_trait]
impl Bus for IoConnectBus {
    fn dialect(&self) -> &'static str {
        "ioconnect"
    }

    fn catalogue(&self) -> Arc<Catalogue> {
        self.shared.catalogue()
    }

    fn generation(&self) -> u64 {
        *self.shared.generation.borrow()
    }

    fn events(&self) -> broadcast::Receiver<BusEvent> {
        self.shared.events.subscribe()
    }

    fn invoker(&self) -> Option<&dyn Invoke> {
        Some(self)
    }

    fn intent_raiser(&self) -> Option<&dyn RaiseIntent> {
        Some(self)
    }

    fn method_server(&self) -> Option<&dyn Serve> {
        Some(self)
    }

    fn channels(&self) -> Option<&dyn crate::Channels> {
        Some(self)
    }

    fn subscriber(&self) -> Option<&dyn crate::Subscribe> {
        Some(self)
    }

    async fn close(&self) {
        self.link.close().await;
    }
}

#[async_trait]
impl Invoke for IoConnectBus {
    async fn invoke(
        &self,
        method: &str,
        mut arguments: Map<String, Value>,
        target: &Target,
        options: CallOptions,
    ) -> Result<Vec<ServerReply>, BusError> {
        let endpoints = self
            .endpoints(method, target, options.wait_for_method)
            .await?;
        if let Some(trace) = &options.trace {
            trace.insert_into_arguments(&mut arguments);
        }
        let calls = endpoints.into_iter().map(|endpoint| {
            let arguments = arguments.clone();
            async move {
                let started = Instant::now();
                let outcome = call(&self.link, method, &endpoint, arguments, options.timeout).await;
                ServerReply {
                    server: endpoint.server,
                    outcome,
                    elapsed: started.elapsed(),
                }
            }
        });
        Ok(join_all(calls).await)
    }
}

#[async_trait]
impl RaiseIntent for IoConnectBus {
    async fn raise_for_context(
        &self,
        request: crate::ContextRaise,
    ) -> Result<IntentResolution, BusError> {
        channels::raise_for_context(self, request).await
    }

    async fn raise_intent(&self, request: IntentRequest) -> Result<IntentResolution, BusError> {
        let not_resolved = |reason: String| BusError::IntentNotResolved {
            intent: request.intent.clone(),
            reason,
        };
        // Only the intents are needed: no snapshot of every method.
        let mut intents = self.shared.intents();
        let mut handler = choose_handler(&intents, &request);
        if handler.is_none() {
            self.refresh_declared_apps().await;
            intents = self.shared.intents();
            handler = choose_handler(&intents, &request);
        }
        let Some(mut handler) = handler else {
            return Err(not_resolved(match intents.intent(&request.intent) {
                Some(_) => "no handler matches the requested app or instance".into(),
                None => "no app handles this intent".into(),
            }));
        };
        let mut started = false;
        if handler.instance.is_none() {
            let mut arguments = Map::new();
            arguments.insert("Name".into(), Value::String(handler.application.clone()));
            arguments.insert("options".into(), json!({"startedByIntentAPI": true}));
            let options = CallOptions {
                timeout: request.timeout,
                wait_for_method: Duration::ZERO,
                trace: None,
            };
            let reply = self
                .invoke_one(START_APPLICATION, arguments, &Target::Best, options)
                .await
                .map_err(|error| {
                    not_resolved(format!("could not start {}: {error}", handler.application))
                })?;
            let instance = reply
                .get("Id")
                .or_else(|| reply.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    not_resolved(format!(
                        "starting {} returned no instance id",
                        handler.application
                    ))
                })?;
            handler.instance = Some(instance.to_owned());
            started = true;
        }
        let target = match &handler.instance {
            Some(instance) => Target::instance(instance.clone()),
            None => Target::application(handler.application.clone()),
        };
        let method = format!("{INTENT_METHOD_PREFIX}{}", request.intent);
        let options = CallOptions {
            timeout: request.timeout,
            wait_for_method: request.timeout,
            trace: None,
        };
        let result = self
            .invoke_one(
                &method,
                intent_arguments(&request.context),
                &target,
                options,
            )
            .await
            .map_err(|error| match error {
                BusError::MethodNotFound { .. } | BusError::NoMatchingServer { .. } => {
                    not_resolved(format!(
                        "{} did not register a handler within {:?}",
                        handler.application, request.timeout
                    ))
                }
                other => other,
            })?;
        Ok(IntentResolution {
            intent: request.intent.clone(),
            handler,
            started,
            result: unwrap_intent_result(result),
        })
    }
}

#[async_trait]
impl Serve for IoConnectBus {
    async fn serve(
        &self,
        method: ServedMethod,
        handler: Arc<dyn MethodHandler>,
    ) -> Result<(), BusError> {
        let (responder, reply) = oneshot::channel();
        let gone = || BusError::Disconnected {
            reason: Some("the bus connection is closed".into()),
        };
        self.link
            .send(Command::Serve {
                method,
                handler,
                responder,
            })
            .await
            .map_err(|_| gone())?;
        reply.await.map_err(|_| gone())?
    }
}

/// Picks the handler io.Connect would: a running instance first, else an app to start;
/// restricted to the requested app or instance.
fn choose_handler(catalogue: &Catalogue, request: &IntentRequest) -> Option<IntentHandler> {
    let intent = catalogue.intent(&request.intent)?;
    let wanted_type = request.context.get("type").and_then(Value::as_str);
    let candidates = intent.handlers.iter().filter(|handler| {
        let app_ok = request
            .target
            .app
            .as_ref()
            .is_none_or(|app| handler.application.eq_ignore_ascii_case(app));
        let instance_ok = request
            .target
            .instance
            .as_ref()
            .is_none_or(|id| handler.instance.as_deref() == Some(id.as_str()));
        let type_ok = match wanted_type {
            Some(wanted) if !handler.context_types.is_empty() => {
                handler.context_types.iter().any(|t| t == wanted)
            }
            _ => true,
        };
        app_ok && instance_ok && type_ok
    });
    let (running, declared): (Vec<&IntentHandler>, Vec<&IntentHandler>) =
        candidates.partition(|handler| handler.instance.is_some());
    running
        .first()
        .or_else(|| declared.first())
        .map(|handler| (*handler).clone())
}

/// io.Connect intent handlers take `{type, data}`; an FDC3 context becomes its `data`.
fn intent_arguments(context: &Value) -> Map<String, Value> {
    if let Value::Object(object) = context {
        let io_shaped = object.get("data").is_some_and(Value::is_object)
            && object.keys().all(|key| key == "type" || key == "data");
        if io_shaped {
            return object.clone();
        }
    }
    let mut arguments = Map::new();
    arguments.insert(
        "type".into(),
        context.get("type").cloned().unwrap_or(Value::Null),
    );
    arguments.insert("data".into(), context.clone());
    arguments
}

/// FDC3 handlers on io.Connect return `{fdc3intentContext: {contextType, payload}}`.
fn unwrap_intent_result(result: Value) -> Value {
    match result {
        Value::Object(mut object) if object.contains_key("fdc3intentContext") => {
            let wrapped = object.remove("fdc3intentContext").unwrap_or(Value::Null);
            match wrapped {
                Value::Object(mut inner) if inner.contains_key("payload") => {
                    inner.remove("payload").unwrap_or(Value::Null)
                }
                other => other,
            }
        }
        other => other,
    }
}
