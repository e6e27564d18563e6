//! What the policy lets snippets see: [`PolicyBus`] wraps the real bus and shows the
//! catalogue with hidden applications, methods and intents taken out, so they are absent from
//! `list`, search, `get` and the sandbox's functions. Their Python names are kept aside
//! ([`PolicyView::hidden`]) so that calling one says a policy hides it.
//!
//! The wrapper's generation is the bus's plus the policy's visibility epoch: a reload that
//! changes what is visible makes the next request rebuild the catalogue.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use codemode_adapters::{Bus, BusEvent, Channels, Invoke, RaiseIntent, Serve};
use codemode_protocol::model::{Catalogue, IntentInfo, MethodInfo};
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use super::policy::{Policy, PolicyStore};
use crate::catalogue::{CatalogueConfig, PythonCatalogue};

/// The catalogue as the policy shows it, for one (bus generation, policy epoch).
#[derive(Debug)]
pub struct PolicyView {
    /// The wrapper's generation.
    pub generation: u64,
    /// The visible catalogue.
    pub visible: Arc<Catalogue>,
    /// Hidden functions: Python name → wire name.
    pub hidden: BTreeMap<String, String>,
    /// Each visible method's variants: their indices in `visible.methods`.
    variants: HashMap<String, Vec<usize>>,
}

impl PolicyView {
    /// The metadata maps of the visible method `wire`, one per variant (for read/write by
    /// metadata).
    pub fn metadata(&self, wire: &str) -> Vec<&Map<String, Value>> {
        self.visible_variants(wire)
            .map(|method| &method.metadata)
            .collect()
    }

    /// The applications serving the visible method `wire`, each once, in discovery order.
    pub fn apps(&self, wire: &str) -> Vec<String> {
        let mut apps: Vec<String> = Vec::new();
        for server in self
            .visible_variants(wire)
            .flat_map(|method| &method.servers)
        {
            let app = server.application();
            if !apps.iter().any(|seen| seen == app) {
                apps.push(app.to_owned());
            }
        }
        apps
    }

    fn visible_variants(&self, wire: &str) -> impl Iterator<Item = &MethodInfo> {
        self.variants
            .get(wire)
            .into_iter()
            .flatten()
            .filter_map(|&index| self.visible.methods.get(index))
    }

    /// The message for a call to a hidden function, if `function` is one.
    pub fn hidden_message(&self, function: &str) -> Option<String> {
        self.hidden.get(function).map(|wire| {
            format!(
                "`{function}` ({wire}) is hidden by this device's policy; it cannot be called from a snippet"
            )
        })
    }
}

/// A bus whose catalogue follows the policy; calls, intents and serving go to the real bus.
pub struct PolicyBus {
    inner: Arc<dyn Bus>,
    store: Arc<PolicyStore>,
    view: Mutex<Option<Arc<PolicyView>>>,
}

impl std::fmt::Debug for PolicyBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyBus")
            .field("dialect", &self.inner.dialect())
            .finish_non_exhaustive()
    }
}

impl PolicyBus {
    /// Wraps `inner` with the policy of `store`.
    pub fn new(inner: Arc<dyn Bus>, store: Arc<PolicyStore>) -> Self {
        Self {
            inner,
            store,
            view: Mutex::new(None),
        }
    }

    /// The policy store.
    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }

    /// The view for the bus's and the policy's state now (built once per change).
    pub fn view(&self) -> Arc<PolicyView> {
        let epoch = self.store.visibility_epoch();
        let generation = self.inner.generation().saturating_add(epoch);
        if let Ok(cached) = self.view.lock()
            && let Some(view) = cached.as_ref()
            && view.generation == generation
        {
            return Arc::clone(view);
        }
        let snapshot = self.inner.catalogue();
        let policy = self.store.current();
        let view = Arc::new(build_view(
            &snapshot,
            &policy,
            snapshot.generation.saturating_add(epoch),
        ));
        if let Ok(mut cached) = self.view.lock() {
            *cached = Some(Arc::clone(&view));
        }
        view
    }
}

fn build_view(snapshot: &Arc<Catalogue>, policy: &Policy, generation: u64) -> PolicyView {
    if generation == snapshot.generation && shows_everything(snapshot, policy) {
        // Nothing hidden (the usual case without a policy): share the bus's snapshot rather
        // than copying every method.
        return PolicyView {
            generation,
            visible: Arc::clone(snapshot),
            hidden: BTreeMap::new(),
            variants: variants_of(snapshot),
        };
    }
    let mut visible = Catalogue {
        generation,
        methods: Vec::with_capacity(snapshot.methods.len()),
        intents: Vec::with_capacity(snapshot.intents.len()),
    };
    let mut hidden = Catalogue {
        generation,
        methods: Vec::new(),
        intents: Vec::new(),
    };
    for method in &snapshot.methods {
        let (shown, gone) = split_method(method, policy);
        if let Some(shown) = shown {
            visible.methods.push(shown);
        }
        if let Some(gone) = gone {
            hidden.methods.push(gone);
        }
    }
    for intent in &snapshot.intents {
        let (shown, gone) = split_intent(intent, policy);
        if let Some(shown) = shown {
            visible.intents.push(shown);
        }
        if let Some(gone) = gone {
            hidden.intents.push(gone);
        }
    }
    let hidden_names = if hidden.methods.is_empty() && hidden.intents.is_empty() {
        BTreeMap::new()
    } else {
        let catalogue = PythonCatalogue::build(&hidden, CatalogueConfig::default());
        catalogue
            .call_map()
            .functions
            .iter()
            .filter_map(|(python, spec)| {
                let wire = match &spec.call {
                    crate::catalogue::CallKind::Method { method, .. } => method.clone(),
                    crate::catalogue::CallKind::Intent { intent } => intent.clone(),
                    _ => return None,
                };
                Some((python.clone(), wire))
            })
            .collect()
    };
    PolicyView {
        generation,
        variants: variants_of(&visible),
        visible: Arc::new(visible),
        hidden: hidden_names,
    }
}

/// Whether the policy shows every method, server, intent and handler of `snapshot`.
fn shows_everything(snapshot: &Catalogue, policy: &Policy) -> bool {
    snapshot.methods.iter().all(|method| {
        policy.method_visible(&method.name)
            && method
                .servers
                .iter()
                .all(|server| policy.app_visible(server.application()))
    }) && snapshot.intents.iter().all(|intent| {
        policy.intent_visible(&intent.name)
            && intent
                .handlers
                .iter()
                .all(|handler| policy.app_visible(&handler.application))
    })
}

/// Each method name's variants: their indices in `catalogue.methods`.
fn variants_of(catalogue: &Catalogue) -> HashMap<String, Vec<usize>> {
    let mut variants: HashMap<String, Vec<usize>> = HashMap::with_capacity(catalogue.methods.len());
    for (index, method) in catalogue.methods.iter().enumerate() {
        variants.entry(method.name.clone()).or_default().push(index);
    }
    variants
}

/// The method with only its visible servers, and the hidden rest.
fn split_method(method: &MethodInfo, policy: &Policy) -> (Option<MethodInfo>, Option<MethodInfo>) {
    if !policy.method_visible(&method.name) {
        return (None, Some(method.clone()));
    }
    let (shown, gone): (Vec<_>, Vec<_>) = method
        .servers
        .iter()
        .cloned()
        .partition(|server| policy.app_visible(server.application()));
    let with = |servers| MethodInfo {
        servers,
        ..method.clone()
    };
    match (shown.is_empty(), gone.is_empty()) {
        (false, true) => (Some(method.clone()), None),
        (true, _) => (None, Some(method.clone())),
        (false, false) => (Some(with(shown)), None),
    }
}

fn split_intent(intent: &IntentInfo, policy: &Policy) -> (Option<IntentInfo>, Option<IntentInfo>) {
    if !policy.intent_visible(&intent.name) {
        return (None, Some(intent.clone()));
    }
    let handlers: Vec<_> = intent
        .handlers
        .iter()
        .filter(|handler| policy.app_visible(&handler.application))
        .cloned()
        .collect();
    if handlers.is_empty() {
        return (None, Some(intent.clone()));
    }
    (
        Some(IntentInfo {
            name: intent.name.clone(),
            handlers,
        }),
        None,
    )
}

#[async_trait]
impl Bus for PolicyBus {
    fn dialect(&self) -> &'static str {
        self.inner.dialect()
    }

    fn display_name(&self) -> &'static str {
        self.inner.display_name()
    }

    fn catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(&self.view().visible)
    }

    fn generation(&self) -> u64 {
        self.inner
            .generation()
            .saturating_add(self.store.visibility_epoch())
    }

    fn events(&self) -> broadcast::Receiver<BusEvent> {
        self.inner.events()
    }

    fn invoker(&self) -> Option<&dyn Invoke> {
        self.inner.invoker()
    }

    fn intent_raiser(&self) -> Option<&dyn RaiseIntent> {
        self.inner.intent_raiser()
    }

    fn method_server(&self) -> Option<&dyn Serve> {
        self.inner.method_server()
    }

    fn channels(&self) -> Option<&dyn Channels> {
        self.inner.channels()
    }

    fn subscriber(&self) -> Option<&dyn codemode_adapters::Subscribe> {
        self.inner.subscriber()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
