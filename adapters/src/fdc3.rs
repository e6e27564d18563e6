//! The FDC3 2.2 Desktop Agent adapter: DACP over the Web Connection Protocol on a WebSocket.
//!
//! FDC3 has intents but no methods, so the catalogue holds intents only. DACP has no "list every
//! intent" request: the catalogue is discovered by asking `findIntentsByContext` for every
//! standard context type and `findIntent` for every standard intent (plus configured extras),
//! which yields each intent's apps (declared in the App Directory) and running instances with
//! their context and result types. Raising follows the spec's two-phase reply: the resolution
//! (`raiseIntentResponse`) and, later and possibly much later, the handler's result
//! (`raiseIntentResultResponse`); both waiters are registered before the request is sent.
//! Agents tell the raiser nothing when the handler leaves before answering, so while the result
//! is awaited the handler's instance is looked up (`findInstances`) now and then. A
//! `payload.error` becomes the error of its request kind: resolve errors `IntentNotResolved`,
//! result errors `IntentResultFailed`, open errors `OpenFailed`, the rest `Refused`.

mod appd;
mod channels;
mod config;
mod connection;

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use async_trait::async_trait;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot, watch};

use codemode_protocol::{
    ProtocolError,
    fdc3::{
        AppIdentifier, AppIntent, AppMetadata, DacpRequest, Fdc3Message, FindInstancesRequest,
        FindIntentRequest, FindIntentsByContextRequest, GetAppMetadataRequest, GetInfoRequest,
        IntentResolution, IntentResult, OpenRequest, RAISE_INTENT_RESULT_RESPONSE,
        RaiseIntentRequest, ResolveError, STANDARD_CONTEXT_TYPES, STANDARD_INTENTS, probe_context,
    },
};

pub use self::config::Fdc3Config;
use self::connection::{Agent, Command, SessionInfo, Wait};
use crate::{
    bus::{Bus, RaiseIntent},
    error::BusError,
    link::{Backoff, Link, LinkConfig},
    model::{
        BusEvent, Catalogue, IntentHandler, IntentInfo, IntentRequest,
        IntentResolution as Resolution,
    },
};

/// A connection to an FDC3 Desktop Agent.
pub struct Fdc3Bus {
    link: Link<Command>,
    events: broadcast::Sender<BusEvent>,
    session: watch::Receiver<Option<SessionInfo>>,
    config: Arc<Fdc3Config>,
    catalogue: RwLock<Arc<Catalogue>>,
}

impl Fdc3Bus {
    /// Connects, validates our identity and discovers the intents.
    pub async fn connect(config: Fdc3Config) -> Result<Self, BusError> {
        let config = Arc::new(config);
        let (events, _) = broadcast::channel(256);
        let (agent, session) = Agent::new(Arc::clone(&config));
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
        let link = Link::start(agent, link_config, events.clone()).await?;
        let bus = Self {
            link,
            events,
            session,
            config,
            catalogue: RwLock::new(Arc::new(Catalogue::default())),
        };
        bus.refresh_catalogue().await?;
        Ok(bus)
    }

    /// Our app id and instance id as the agent validated them.
    pub fn identity(&self) -> Option<AppIdentifier> {
        let session = self.session.borrow().clone()?;
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
            for declared in appd::load(location, &self.config.tls).await? {
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
            let _ = self.events.send(BusEvent::CatalogueChanged {
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
        let not_resolved = |reason| BusError::IntentNotResolved {
            intent: intent.to_owned(),
            reason,
        };
        let reply = self
            .request(&request, self.message_timeout(), not_resolved)
            .await?;
        let app_intent: AppIntent = field(&reply, "appIntent")?;
        if app_intent.apps.is_empty() {
            return Err(not_resolved(ResolveError::NoAppsFound.to_string()));
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
        let not_resolved = |reason| BusError::IntentNotResolved {
            intent: format!("(any intent for {context_type})"),
            reason,
        };
        let reply = self
            .request(&request, self.message_timeout(), not_resolved)
            .await?;
        let app_intents: Vec<AppIntent> = field(&reply, "appIntents")?;
        if app_intents.is_empty() {
            return Err(not_resolved(ResolveError::NoAppsFound.to_string()));
        }
        Ok(app_intents)
    }

    /// `open`: starts an app (optionally handing it a context) and returns its instance.
    pub async fn open(
        &self,
        app: AppIdentifier,
        context: Option<Value>,
    ) -> Result<AppIdentifier, BusError> {
        let app_id = app.app_id.clone();
        let request = OpenRequest { app, context };
        let reply = self
            .request(&request, self.launch_timeout(), |reason| {
                BusError::OpenFailed {
                    app: app_id,
                    reason,
                }
            })
            .await?;
        field(&reply, "appIdentifier")
    }

    /// `getAppMetadata`.
    pub async fn app_metadata(&self, app: AppIdentifier) -> Result<AppMetadata, BusError> {
        let reply = self
            .request(
                &GetAppMetadataRequest { app },
                self.message_timeout(),
                refused(GetAppMetadataRequest::TYPE),
            )
            .await?;
        field(&reply, "appMetadata")
    }

    /// `findInstances`.
    pub async fn find_instances(&self, app: AppIdentifier) -> Result<Vec<AppMetadata>, BusError> {
        let reply = self
            .request(
                &FindInstancesRequest { app },
                self.message_timeout(),
                refused(FindInstancesRequest::TYPE),
            )
            .await?;
        field(&reply, "appIdentifiers")
    }

    /// `getInfo`: the agent's implementation metadata.
    pub async fn info(&self) -> Result<Value, BusError> {
        let reply = self
            .request(
                &GetInfoRequest {},
                self.message_timeout(),
                refused(GetInfoRequest::TYPE),
            )
            .await?;
        field(&reply, "implementationMetadata")
    }

    /// Returns once `source`'s instance has been missing from `findInstances` for
    /// [`Fdc3Config::handler_missing_checks`] checks in a row; never when the check is off or
    /// `source` names no instance. A failed check counts as neither present nor missing.
    async fn until_instance_gone(&self, source: &AppIdentifier) {
        let interval = self.config.handler_check_interval;
        let Some(instance) = source.instance_id.as_deref() else {
            return std::future::pending().await;
        };
        if interval.is_zero() {
            return std::future::pending().await;
        }
        let app = AppIdentifier {
            app_id: source.app_id.clone(),
            instance_id: None,
            desktop_agent: None,
        };
        let mut missing: u32 = 0;
        loop {
            tokio::time::sleep(interval).await;
            match self.find_instances(app.clone()).await {
                Ok(instances)
                    if instances
                        .iter()
                        .any(|found| found.instance_id.as_deref() == Some(instance)) =>
                {
                    missing = 0;
                }
                Ok(_) => {
                    missing = missing.saturating_add(1);
                    if missing >= self.config.handler_missing_checks.max(1) {
                        tracing::info!(app = %source.app_id, %instance, "an intent handler left before returning its result");
                        return;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "could not check an intent handler's presence");
                }
            }
        }
    }

    fn message_timeout(&self) -> Duration {
        self.session_timeout(|session| session.message_timeout)
            .unwrap_or(self.config.message_timeout)
    }

    fn launch_timeout(&self) -> Duration {
        self.session_timeout(|session| session.app_launch_timeout)
            .unwrap_or(Duration::from_secs(100))
    }

    fn session_timeout(&self, pick: impl Fn(&SessionInfo) -> Option<Duration>) -> Option<Duration> {
        self.session.borrow().as_ref().and_then(pick)
    }

    /// Sends a request and waits for its response; `failed` turns a `payload.error` into the
    /// error of this kind of request (each request has its own error enum in the standard).
    async fn request<R: DacpRequest>(
        &self,
        request: &R,
        timeout: Duration,
        failed: impl FnOnce(String) -> BusError,
    ) -> Result<Fdc3Message, BusError> {
        let mut replies = self.send(request, &[(R::RESPONSE, timeout)]).await?;
        let reply = replies.pop().ok_or_else(gone)?.await;
        let reply = reply_outcome(R::TYPE, reply)?;
        match reply.error() {
            Some(reason) => Err(failed(reason.to_owned())),
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
        self.link
            .send(Command {
                message: Box::new(message),
                waits,
            })
            .await
            .map_err(|_| gone())?;
        Ok(receivers)
    }
}

/// The error of a request that is neither a resolution nor an open (metadata, instances, info).
fn refused(request: &'static str) -> impl FnOnce(String) -> BusError {
    move |reason| BusError::Refused {
        request: request.to_owned(),
        reason,
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

/// One choice of an ambiguous raise, with what the catalogue knows about its app (title,
/// context and result types), which the agent's needs-resolution payload leaves out.
fn choice(catalogue: &Catalogue, intent: &str, app: &AppMetadata) -> IntentHandler {
    let declared = catalogue.intent(intent).and_then(|info| {
        info.handlers
            .iter()
            .find(|h| h.application == app.app_id && h.instance.is_none())
    });
    match declared {
        Some(declared) => IntentHandler {
            instance: app.instance_id.clone(),
            app_title: app.title.clone().or_else(|| declared.app_title.clone()),
            ..declared.clone()
        },
        None => handler_from(app),
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
        self.events.subscribe()
    }

    fn display_name(&self) -> &'static str {
        "FDC3"
    }

    fn intent_raiser(&self) -> Option<&dyn RaiseIntent> {
        Some(self)
    }

    fn channels(&self) -> Option<&dyn crate::Channels> {
        Some(self)
    }

    async fn close(&self) {
        self.link.close().await;
    }
}

/// FDC3 has intents only: no [`Invoke`](crate::Invoke) or [`Serve`](crate::Serve).
#[async_trait]
impl RaiseIntent for Fdc3Bus {
    async fn raise_for_context(
        &self,
        request: crate::ContextRaise,
    ) -> Result<Resolution, BusError> {
        self.raise_context(request).await
    }

    async fn raise_intent(&self, request: IntentRequest) -> Result<Resolution, BusError> {
        let intent = request.intent.clone();
        let not_resolved = |reason: String| BusError::IntentNotResolved {
            intent: intent.clone(),
            reason,
        };
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
                        .ok_or_else(|| {
                            not_resolved(ResolveError::TargetInstanceUnavailable.to_string())
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
            return Err(not_resolved(reason.to_owned()));
        }
        if response.payload.get("appIntent").is_some() {
            let app_intent: AppIntent = field(&response, "appIntent")?;
            if app_intent.apps.is_empty() {
                return Err(not_resolved(ResolveError::NoAppsFound.to_string()));
            }
            let catalogue = self.catalogue();
            let choices = app_intent
                .apps
                .iter()
                .map(|app| choice(&catalogue, &intent, app))
                .collect();
            return Err(BusError::IntentAmbiguous { intent, choices });
        }
        let resolution: IntentResolution = field(&response, "intentResolution")?;
        self.deliver(intent, resolution, result_receiver).await
    }
}

impl Fdc3Bus {
    /// After a raise resolved to `resolution`: waits for the handler's result (or its
    /// departure) and describes the handler.
    pub(crate) async fn deliver(
        &self,
        intent: String,
        resolution: IntentResolution,
        result_receiver: oneshot::Receiver<Result<Fdc3Message, ProtocolError>>,
    ) -> Result<Resolution, BusError> {
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

        // The agent tells the raiser nothing when the handler leaves before answering, so the
        // handler's presence is checked while the (possibly long) result wait runs.
        let outcome = tokio::select! {
            biased;
            reply = result_receiver => reply_outcome(&intent, reply)?,
            () = self.until_instance_gone(&resolution.source) => {
                return Err(BusError::IntentHandlerLeft { intent, handler });
            }
        };
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
}
