//! The FDC3 2.2 Desktop Agent adapter: DACP over the Web Connection Protocol on a WebSocket.
//!
//! FDC3 has intents but no methods, so the catalogue holds intents only. DACP has no "list every
//! intent" request: the catalogue is discovered by asking `findIntentsByContext` for every
//! standard context type and `findIntent` for every standard intent (plus configured extras),
//! which yields each intent's apps (declared in the App Directory) and running instances with
//! their context and result types. Raising follows the spec's two-phase reply: the resolution
//! (`raiseIntentResponse`) and, later and possibly much later, the handler's result
//! (`raiseIntentResultResponse`); both waiters are registered before the request is sent.

mod appd;
mod config;
mod connection;

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use async_trait::async_trait;
use futures_util::future::join_all;
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};

use codemode_protocol::{
    ProtocolError,
    fdc3::{
        AppIdentifier, AppIntent, AppMetadata, DacpRequest, Fdc3Message, FindInstancesRequest,
        FindIntentRequest, FindIntentsByContextRequest, GetAppMetadataRequest, GetInfoRequest,
        IntentResolution, IntentResult, OpenRequest, RAISE_INTENT_RESULT_RESPONSE,
        RaiseIntentRequest, STANDARD_CONTEXT_TYPES, STANDARD_INTENTS, errors, probe_context,
    },
};

pub use self::config::Fdc3Config;
use self::connection::{Command, Shared, Wait};
use crate::{
    bus::Bus,
    error::BusError,
    model::{
        BusEvent, CallOptions, Catalogue, IntentHandler, IntentInfo, IntentRequest,
        IntentResolution as Resolution, MethodHandler, ServedMethod, ServerReply, Target,
    },
};

/// A connection to an FDC3 Desktop Agent.
pub struct Fdc3Bus {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    config: Arc<Fdc3Config>,
    catalogue: RwLock<Arc<Catalogue>>,
}

impl Fdc3Bus {
    /// Connects, validates our identity and discovers the intents.
    pub async fn connect(config: Fdc3Config) -> Result<Self, BusError> {
        let config = Arc::new(config);
        let shared = Arc::new(Shared::new());
        let (commands, receiver) = mpsc::channel(1024);
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(connection::run(
            Arc::clone(&config),
            Arc::clone(&shared),
            receiver,
            ready_tx,
        ));
        ready_rx.await.map_err(|_| BusError::Connect {
            url: config.url.clone(),
            reason: "the connection task ended unexpectedly".into(),
        })??;
        let bus = Self {
            commands,
            shared,
            config,
            catalogue: RwLock::new(Arc::new(Catalogue::default())),
        };
        bus.refresh_catalogue().await?;
        Ok(bus)
    }

    /// Our app id and instance id as the agent validated them.
    pub fn identity(&self) -> Option<AppIdentifier> {
        let session = self.shared.session.read().ok()?.clone()?;
        Some(AppIdentifier {
            app_id: session.app_id,
            instance_id: Some(session.instance_id),
            desktop_agent: None,
        })
    }

    /// Rediscovers every intent and its handlers.
    pub async fn refresh_catalogue(&self) -> Result<Arc<Catalogue>, BusError> {
        let context_types: Vec<String> = STANDARD_CONTEXT_TYPES
            .iter()
            .map(|name| (*name).to_owned())
            .chain(self.config.extra_context_types.iter().cloned())
            .collect();
        let intents: Vec<String> = STANDARD_INTENTS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(self.config.extra_intents.iter().cloned())
            .collect();
        let by_context = join_all(context_types.iter().map(|context_type| async move {
            let found = self
                .find_intents_by_context(probe_context(context_type))
                .await;
            (context_type.clone(), found)
        }));
        let by_intent = join_all(intents.iter().map(|intent| self.find_intent(intent, None)));
        let (by_context, by_intent) = tokio::join!(by_context, by_intent);

        let mut builder = CatalogueBuilder::default();
        if let Some(location) = &self.config.app_directory {
            for declared in appd::load(location).await? {
                builder.add_declared(&declared);
            }
        }
        for (context_type, found) in by_context {
            match found {
                Ok(app_intents) => app_intents
                    .iter()
                    .for_each(|app_intent| builder.add(app_intent, Some(&context_type))),
                Err(BusError::IntentNotResolved { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        for found in by_intent {
            match found {
                Ok(app_intent) => builder.add(&app_intent, None),
                Err(BusError::IntentNotResolved { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let generation = self
            .catalogue
            .read()
            .map_or(0, |current| current.generation)
            + 1;
        let fresh = builder.build(generation);
        let mut slot = self
            .catalogue
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.intents != fresh.intents || slot.generation == 0 {
            *slot = Arc::new(fresh);
            let _ = self.shared.events.send(BusEvent::CatalogueChanged {
                generation: slot.generation,
            });
        }
        Ok(Arc::clone(&slot))
    }

    /// `findIntent`: the apps and instances that handle `intent` (optionally for a context).
    pub async fn find_intent(
        &self,
        intent: &str,
        context: Option<Value>,
    ) -> Result<AppIntent, BusError> {
        let request = FindIntentRequest {
            intent: intent.to_owned(),
            context,
            result_type: None,
        };
        let reply = self.request(&request, self.message_timeout()).await?;
        let app_intent: AppIntent = field(&reply, "appIntent")?;
        if app_intent.apps.is_empty() {
            return Err(BusError::IntentNotResolved {
                intent: intent.to_owned(),
                reason: errors::NO_APPS_FOUND.into(),
            });
        }
        Ok(app_intent)
    }

    /// `findIntentsByContext`: every intent (with its handlers) that can take `context`.
    pub async fn find_intents_by_context(
        &self,
        context: Value,
    ) -> Result<Vec<AppIntent>, BusError> {
        let context_type = context
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let request = FindIntentsByContextRequest {
            context,
            result_type: None,
        };
        let reply = self
            .request(&request, self.message_timeout())
            .await
            .map_err(|error| match error {
                BusError::IntentNotResolved { reason, .. } => BusError::IntentNotResolved {
                    intent: format!("(for {context_type})"),
                    reason,
                },
                other => other,
            })?;
        let app_intents: Vec<AppIntent> = field(&reply, "appIntents")?;
        if app_intents.is_empty() {
            return Err(BusError::IntentNotResolved {
                intent: format!("(for {context_type})"),
                reason: errors::NO_APPS_FOUND.into(),
            });
        }
        Ok(app_intents)
    }

    /// `open`: starts an app (optionally handing it a context) and returns its instance.
    pub async fn open(
        &self,
        app: AppIdentifier,
        context: Option<Value>,
    ) -> Result<AppIdentifier, BusError> {
        let request = OpenRequest { app, context };
        let reply = self.request(&request, self.launch_timeout()).await?;
        field(&reply, "appIdentifier")
    }

    /// `getAppMetadata`.
    pub async fn app_metadata(&self, app: AppIdentifier) -> Result<AppMetadata, BusError> {
        let reply = self
            .request(&GetAppMetadataRequest { app }, self.message_timeout())
            .await?;
        field(&reply, "appMetadata")
    }

    /// `findInstances`.
    pub async fn find_instances(&self, app: AppIdentifier) -> Result<Vec<AppMetadata>, BusError> {
        let reply = self
            .request(&FindInstancesRequest { app }, self.message_timeout())
            .await?;
        field(&reply, "appIdentifiers")
    }

    /// `getInfo`: the agent's implementation metadata.
    pub async fn info(&self) -> Result<Value, BusError> {
        let reply = self
            .request(&GetInfoRequest {}, self.message_timeout())
            .await?;
        field(&reply, "implementationMetadata")
    }

    fn message_timeout(&self) -> Duration {
        self.session_timeout(|session| session.message_timeout)
            .unwrap_or(self.config.message_timeout)
    }

    fn launch_timeout(&self) -> Duration {
        self.session_timeout(|session| session.app_launch_timeout)
            .unwrap_or(Duration::from_secs(100))
    }

    fn session_timeout(
        &self,
        pick: impl Fn(&connection::Session) -> Option<Duration>,
    ) -> Option<Duration> {
        self.shared.session.read().ok()?.as_ref().and_then(pick)
    }

    /// Sends a request and waits for its response; `payload.error` becomes an error.
    async fn request<R: DacpRequest>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<Fdc3Message, BusError> {
        let mut replies = self.send(request, &[(R::RESPONSE, timeout)]).await?;
        let reply = replies.pop().ok_or_else(gone)?.await;
        let reply = reply_outcome(R::TYPE, reply)?;
        match reply.error() {
            Some(reason) => Err(BusError::IntentNotResolved {
                intent: R::TYPE.to_owned(),
                reason: reason.to_owned(),
            }),
            None => Ok(reply),
        }
    }

    /// Registers one waiter per expected reply, then sends; the receivers come back in order.
    async fn send<R: DacpRequest>(
        &self,
        request: &R,
        replies: &[(&'static str, Duration)],
    ) -> Result<Vec<oneshot::Receiver<Result<Fdc3Message, ProtocolError>>>, BusError> {
        let message = Fdc3Message::request(request, uuid::Uuid::new_v4().to_string());
        let mut waits = Vec::new();
        let mut receivers = Vec::new();
        for (response_type, timeout) in replies {
            let (responder, receiver) = oneshot::channel();
            waits.push(Wait {
                response_type,
                timeout: *timeout,
                responder,
            });
            receivers.push(receiver);
        }
        self.commands
            .send(Command::Request {
                message: Box::new(message),
                waits,
            })
            .await
            .map_err(|_| gone())?;
        Ok(receivers)
    }
}

fn gone() -> BusError {
    BusError::Disconnected {
        reason: Some("the desktop agent connection is closed".into()),
    }
}

fn reply_outcome(
    what: &str,
    reply: Result<Result<Fdc3Message, ProtocolError>, oneshot::error::RecvError>,
) -> Result<Fdc3Message, BusError> {
    match reply {
        Ok(Ok(message)) => Ok(message),
        Ok(Err(ProtocolError::Timeout { after })) => Err(BusError::Timeout {
            method: what.to_owned(),
            after,
        }),
        Ok(Err(ProtocolError::Closed { reason })) => Err(BusError::Disconnected { reason }),
        Ok(Err(other)) => Err(BusError::Protocol(other)),
        Err(_) => Err(gone()),
    }
}

fn field<T: serde::de::DeserializeOwned>(reply: &Fdc3Message, name: &str) -> Result<T, BusError> {
    let value = reply.payload.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|error| {
        BusError::Protocol(ProtocolError::BadMessage {
            message_type: reply.message_type.clone(),
            reason: format!("`{name}`: {error}"),
        })
    })
}

/// Folds `AppIntent`s into intents with handlers: instances first, then apps to launch.
#[derive(Default)]
struct CatalogueBuilder {
    intents: BTreeMap<String, BTreeMap<(bool, String, String), IntentHandler>>,
    display_names: BTreeMap<String, String>,
}

impl CatalogueBuilder {
    fn add(&mut self, app_intent: &AppIntent, context_type: Option<&str>) {
        let name = app_intent.intent.name.clone();
        if let Some(display) = &app_intent.intent.display_name {
            self.display_names
                .entry(name.clone())
                .or_insert_with(|| display.clone());
        }
        let handlers = self.intents.entry(name).or_default();
        for app in &app_intent.apps {
            let key = (
                app.instance_id.is_none(),
                app.app_id.clone(),
                app.instance_id.clone().unwrap_or_default(),
            );
            let handler = handlers.entry(key).or_insert_with(|| handler_from(app));
            if let Some(context_type) = context_type
                && !handler
                    .context_types
                    .iter()
                    .any(|known| known == context_type)
            {
                handler.context_types.push(context_type.to_owned());
            }
            if handler.result_type.is_none() {
                handler.result_type.clone_from(&app.result_type);
            }
        }
    }

    /// An App Directory entry: authoritative for context and result types.
    fn add_declared(&mut self, declared: &appd::DeclaredIntent) {
        if let Some(display) = &declared.display_name {
            self.display_names
                .entry(declared.intent.clone())
                .or_insert_with(|| display.clone());
        }
        let handlers = self.intents.entry(declared.intent.clone()).or_default();
        let key = (true, declared.app_id.clone(), String::new());
        let handler = handlers.entry(key).or_insert_with(|| IntentHandler {
            application: declared.app_id.clone(),
            instance: None,
            display_name: None,
            context_types: Vec::new(),
            result_type: None,
            app_title: None,
        });
        for context_type in &declared.contexts {
            if !handler.context_types.contains(context_type) {
                handler.context_types.push(context_type.clone());
            }
        }
        handler.result_type.clone_from(&declared.result_type);
        if handler.app_title.is_none() {
            handler.app_title.clone_from(&declared.app_title);
        }
    }

    fn build(self, generation: u64) -> Catalogue {
        let intents = self
            .intents
            .into_iter()
            .map(|(name, handlers)| {
                let mut handlers: Vec<IntentHandler> = handlers.into_values().collect();
                // Instances inherit what their app's record declares.
                let declared: Vec<IntentHandler> = handlers
                    .iter()
                    .filter(|h| h.instance.is_none())
                    .cloned()
                    .collect();
                for handler in handlers.iter_mut().filter(|h| h.instance.is_some()) {
                    if let Some(app) = declared
                        .iter()
                        .find(|app| app.application == handler.application)
                    {
                        for context_type in &app.context_types {
                            if !handler.context_types.contains(context_type) {
                                handler.context_types.push(context_type.clone());
                            }
                        }
                        if handler.result_type.is_none() {
                            handler.result_type.clone_from(&app.result_type);
                        }
                        if handler.app_title.is_none() {
                            handler.app_title.clone_from(&app.app_title);
                        }
                    }
                }
                let display_name = self.display_names.get(&name).cloned();
                for handler in &mut handlers {
                    handler.context_types.sort();
                    if handler.display_name.is_none() {
                        handler.display_name.clone_from(&display_name);
                    }
                }
                IntentInfo { name, handlers }
            })
            .collect();
        Catalogue {
            generation,
            methods: Vec::new(),
            intents,
        }
    }
}

fn handler_from(app: &AppMetadata) -> IntentHandler {
    IntentHandler {
        application: app.app_id.clone(),
        instance: app.instance_id.clone(),
        display_name: None,
        context_types: Vec::new(),
        result_type: app.result_type.clone(),
        app_title: app.title.clone(),
    }
}

#[async_trait]
impl Bus for Fdc3Bus {
    fn dialect(&self) -> &'static str {
        "fdc3"
    }

    fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue
            .read()
            .map(|catalogue| Arc::clone(&catalogue))
            .unwrap_or_default()
    }

    fn events(&self) -> broadcast::Receiver<BusEvent> {
        self.shared.events.subscribe()
    }

    async fn invoke(
        &self,
        method: &str,
        _arguments: Map<String, Value>,
        _target: &Target,
        _options: CallOptions,
    ) -> Result<Vec<ServerReply>, BusError> {
        Err(BusError::MethodNotFound {
            method: format!("{method} (an FDC3 Desktop Agent offers intents, not methods)"),
        })
    }

    async fn raise_intent(&self, request: IntentRequest) -> Result<Resolution, BusError> {
        let intent = request.intent.clone();
        let app = match (&request.target.app, &request.target.instance) {
            (None, None) => None,
            (app, instance) => {
                let app_id = match app {
                    Some(app) => app.clone(),
                    None => self
                        .catalogue()
                        .intent(&intent)
                        .and_then(|info| {
                            info.handlers
                                .iter()
                                .find(|h| h.instance == *instance)
                                .map(|h| h.application.clone())
                        })
                        .ok_or_else(|| BusError::IntentNotResolved {
                            intent: intent.clone(),
                            reason: errors::TARGET_INSTANCE_UNAVAILABLE.into(),
                        })?,
                };
                Some(AppIdentifier {
                    app_id,
                    instance_id: instance.clone(),
                    desktop_agent: None,
                })
            }
        };
        let raise = RaiseIntentRequest {
            intent: intent.clone(),
            context: request.context.clone(),
            app,
        };
        let result_timeout = self.config.result_timeout.max(request.timeout);
        let mut receivers = self
            .send(
                &raise,
                &[
                    (RaiseIntentRequest::RESPONSE, request.timeout),
                    (RAISE_INTENT_RESULT_RESPONSE, result_timeout),
                ],
            )
            .await?;
        let result_receiver = receivers.pop().ok_or_else(gone)?;
        let resolution_receiver = receivers.pop().ok_or_else(gone)?;

        let response = reply_outcome(&intent, resolution_receiver.await)?;
        if let Some(reason) = response.error() {
            return Err(BusError::IntentNotResolved {
                intent,
                reason: reason.to_owned(),
            });
        }
        if let Some(app_intent) = response.payload.get("appIntent") {
            let app_intent: AppIntent =
                serde_json::from_value(app_intent.clone()).unwrap_or_default();
            let choices = app_intent.apps.iter().map(handler_from).collect();
            return Err(BusError::IntentAmbiguous { intent, choices });
        }
        let resolution: IntentResolution = field(&response, "intentResolution")?;
        let handler = self
            .catalogue()
            .intent(&intent)
            .and_then(|info| {
                info.handlers
                    .iter()
                    .find(|h| h.application == resolution.source.app_id && h.instance.is_none())
                    .cloned()
            })
            .map_or_else(
                || IntentHandler {
                    application: resolution.source.app_id.clone(),
                    instance: resolution.source.instance_id.clone(),
                    display_name: None,
                    context_types: Vec::new(),
                    result_type: None,
                    app_title: None,
                },
                |declared| IntentHandler {
                    instance: resolution.source.instance_id.clone(),
                    ..declared
                },
            );
        let started = resolution
            .source
            .instance_id
            .as_ref()
            .is_some_and(|instance| {
                !self.catalogue().intent(&intent).is_some_and(|info| {
                    info.handlers
                        .iter()
                        .any(|h| h.instance.as_ref() == Some(instance))
                })
            });

        let outcome = reply_outcome(&intent, result_receiver.await)?;
        if let Some(reason) = outcome.error() {
            return Err(BusError::IntentResultFailed {
                intent,
                reason: reason.to_owned(),
            });
        }
        let result: IntentResult = field(&outcome, "intentResult").unwrap_or_default();
        let result = match (result.context, result.channel) {
            (Some(context), _) => context,
            (None, Some(channel)) => json!({"channel": channel}),
            (None, None) => Value::Null,
        };
        if started && let Err(error) = self.refresh_catalogue().await {
            tracing::warn!(%error, "could not refresh the catalogue after a launch");
        }
        Ok(Resolution {
            intent,
            handler,
            started,
            result,
        })
    }

    async fn serve(
        &self,
        method: ServedMethod,
        _handler: Arc<dyn MethodHandler>,
    ) -> Result<(), BusError> {
        Err(BusError::Unsupported {
            operation: format!("serving the method `{}`", method.name),
            dialect: "FDC3".into(),
        })
    }

    async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Close { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}
