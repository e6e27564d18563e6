// Page-side adapters: each turns one kind of browser bus client into
//   model()   -> the bus description the worker builds the catalogue from,
//   invoke(r) -> the result of a method call request {method, arguments, target, servers?},
//   raise(r)  -> the result of an intent request {intent, context, app, instance},
//   subscribe(onChange) -> marks the catalogue stale when the bus changes.
// Errors are thrown as {kind, message, reasonUri?, context?} with the engine's kinds
// (method_not_found, invocation_failed, intent_not_resolved, timeout, peer_left…).

const busError = (kind, message, extra = {}) => Object.assign(new Error(message), { kind, ...extra });

// ---------------------------------------------------------------- io.Connect Browser / Glue42

function identityOf(server) {
  const identity = {};
  for (const key of ["application", "applicationName", "instance", "user", "machine", "environment", "region", "windowId"]) {
    if (server?.[key] !== undefined && server[key] !== null) identity[key] = server[key];
  }
  return identity;
}

const peerIdOf = (server) => server?.peerId ?? server?.instance ?? server?.windowId ?? server?.application ?? "";

function matchesFilter(server, filter) {
  return Object.entries(filter).every(([key, value]) => server?.[key] === value || (key === "peer_id" && peerIdOf(server) === value));
}

function ioError(error, method) {
  const message = String(error?.message ?? error);
  if (/no (method|server)|can ?not find|not found|no servers/i.test(message)) {
    return busError("method_not_found", `${method}: ${message}`);
  }
  if (/timeout|timed out/i.test(message)) return busError("timeout", `${method}: ${message}`);
  if (/left|disconnect|removed/i.test(message)) return busError("peer_left", `${method}: ${message}`);
  return busError("invocation_failed", message, { context: error?.context ?? null });
}

/** The platform's own methods, as the desktop adapter leaves them out (adapters' state.rs). */
const PLATFORM_PREFIXES = ["T42.", "Tick42."];

/** io.Connect Browser (`io`) or Glue42 Core (`glue`): the same interop and intents API. */
export function ioAdapter(io, options = {}) {
  const timeout = options.callTimeoutMs ?? 30000;
  const listeners = [];
  return {
    async model() {
      const methods = io.interop.methods().filter((method) => !PLATFORM_PREFIXES.some((p) => method.name.startsWith(p))).map((method) => ({
        name: method.name,
        displayName: method.displayName ?? null,
        description: method.description ?? null,
        accepts: method.accepts ?? null,
        returns: method.returns ?? null,
        objectTypes: method.objectTypes ?? [],
        supportsStreaming: Boolean(method.supportsStreaming),
        flags: method.flags ?? {},
        servers: (method.getServers?.() ?? []).map((server) => ({ peerId: peerIdOf(server), identity: identityOf(server) })),
      }));
      let intents = [];
      if (io.intents?.all) {
        const all = await io.intents.all();
        intents = all.map((intent) => ({
          name: intent.name,
          handlers: (intent.handlers ?? []).map((handler) => ({
            application: handler.applicationName,
            instance: handler.instanceId ?? null,
            displayName: handler.displayName ?? null,
            contextTypes: handler.contextTypes ?? [],
            resultType: handler.resultType ?? null,
            appTitle: handler.applicationTitle ?? handler.applicationDescription ?? null,
          })),
        }));
      }
      return { methods, intents };
    },
    async invoke({ method, arguments: args, target, servers }) {
      let targetArg = target === "all" ? "all" : "best";
      if (target && typeof target === "object") {
        const candidates = io.interop.servers().filter((server) => matchesFilter(server, target));
        if (!candidates.length) throw busError("no_matching_server", `no server of ${method} matches target ${JSON.stringify(target)}`);
        targetArg = candidates[0];
      }
      if (servers?.length) {
        const allowed = new Set(servers.map((s) => s.peerId));
        const live = io.interop.servers().filter((server) => allowed.has(peerIdOf(server)));
        if (!live.length) throw busError("method_not_found", `${method}: the server left`);
        if (targetArg === "best") targetArg = live[0];
        else if (targetArg === "all") targetArg = live;
      }
      let result;
      try {
        result = await io.interop.invoke(method, args ?? {}, targetArg, { methodResponseTimeoutMs: timeout, waitTimeoutMs: 0 });
      } catch (error) {
        throw ioError(error, method);
      }
      if (target === "all") {
        return (result.all_return_values ?? [result]).map((one) => {
          const server = { ...identityOf(one.executed_by), peer_id: peerIdOf(one.executed_by) };
          return one.message ? { server, error: one.message } : { server, result: one.returned ?? null };
        });
      }
      return result.returned ?? null;
    },
    async raise({ intent, context, app, instance }) {
      const request = { intent, context: { type: context?.type, data: context } };
      if (instance) request.target = { instance };
      else if (app) request.target = { app };
      else {
        // Like the desktop: a running handler first; starting an app is the platform's last resort.
        const found = io.intents.find ? await io.intents.find(intent) : [];
        const running = (found?.[0]?.handlers ?? []).find((handler) => handler.instanceId);
        if (running) request.target = { instance: running.instanceId };
      }
      try {
        const resolution = await io.intents.raise(request);
        return resolution?.result ?? null;
      } catch (error) {
        const message = String(error?.message ?? error);
        if (/no (handler|intent|app)|not found|can ?not find/i.test(message)) throw busError("intent_not_resolved", `${intent}: ${message}`, { reasonUri: "NoAppsFound" });
        throw busError("invocation_failed", `${intent}: ${message}`);
      }
    },
    subscribe(onChange) {
      const changed = () => onChange();
      for (const event of ["serverMethodAdded", "serverMethodRemoved", "serverAdded", "serverRemoved", "methodAdded", "methodRemoved"]) {
        const unsubscribe = io.interop[event]?.(changed);
        if (typeof unsubscribe === "function") listeners.push(unsubscribe);
      }
    },
    close() { for (const unsubscribe of listeners) unsubscribe(); },
  };
}

// ---------------------------------------------------------------- FDC3 2.2

const FDC3_REASONS = {
  NoAppsFound: "intent_not_resolved", ResolverUnavailable: "intent_not_resolved", TargetAppUnavailable: "intent_not_resolved",
  TargetInstanceUnavailable: "intent_not_resolved", IntentDeliveryFailed: "invocation_failed", UserCancelledResolution: "intent_not_resolved",
  ResolverTimeout: "timeout", IntentHandlerRejected: "invocation_failed", NoResultReturned: "invocation_failed", MalformedContext: "invalid_arguments",
};

/**
 * An FDC3 2.2 DesktopAgent. FDC3 cannot list every intent, so the page names the ones to offer:
 * `intents: [{ name, contextTypes }]` (default: `findIntentsByContext` for `contexts`).
 */
export function fdc3Adapter(fdc3, options = {}) {
  const declared = options.intents ?? [];
  return {
    async model() {
      const intents = [];
      for (const entry of declared) {
        const name = typeof entry === "string" ? entry : entry.name;
        const contextTypes = typeof entry === "string" ? [] : (entry.contextTypes ?? []);
        let appIntent;
        try { appIntent = await fdc3.findIntent(name); } catch { continue; }
        const handlers = (appIntent?.apps ?? []).map((app) => ({
          application: app.appId,
          instance: app.instanceId ?? null,
          displayName: app.title ?? app.name ?? null,
          contextTypes,
          resultType: app.resultType ?? entry.resultType ?? null,
          appTitle: app.title ?? app.description ?? null,
        }));
        if (handlers.length) intents.push({ name, handlers });
      }
      return { methods: [], intents };
    },
    async invoke({ method }) {
      throw busError("method_not_found", `${method}: an FDC3 agent has no methods`);
    },
    async raise({ intent, context, app, instance }) {
      const target = instance ? { appId: app ?? undefined, instanceId: instance } : app ? { appId: app } : undefined;
      let resolution;
      try {
        resolution = await fdc3.raiseIntent(intent, context, target);
      } catch (error) {
        const reason = String(error?.message ?? error);
        throw busError(FDC3_REASONS[reason] ?? "intent_not_resolved", `${intent}: ${reason}`, { reasonUri: reason });
      }
      let result;
      try {
        result = await resolution.getResult();
      } catch (error) {
        const reason = String(error?.message ?? error);
        throw busError(FDC3_REASONS[reason] ?? "invocation_failed", `${intent}: ${reason}`, { reasonUri: reason });
      }
      if (result && typeof result === "object" && typeof result.type === "string") return result;
      if (result && typeof result.broadcast === "function") return { type: "fdc3.channel", id: result.id, channelType: result.type };
      return null;
    },
    subscribe(onChange) { this.onChange = onChange; },
  };
}

// ---------------------------------------------------------------- generic

/**
 * A generic pair: `methods` (an array, or a function returning one, of
 * `{name, accepts?, returns?, description?, servers?: [{application, instance?}]}`) and
 * `invoke(method, args, target)` returning the result (throw `{kind, message}` to fail).
 * Optional `intents` and `raise(intent, context, target)`.
 */
export function genericAdapter(options) {
  return {
    async model() {
      const list = typeof options.methods === "function" ? await options.methods() : options.methods;
      const methods = (list ?? []).map((method) => ({
        name: method.name,
        displayName: method.displayName ?? null,
        description: method.description ?? null,
        accepts: method.accepts ?? null,
        returns: method.returns ?? null,
        objectTypes: method.objectTypes ?? [],
        supportsStreaming: false,
        flags: method.flags ?? {},
        servers: (method.servers ?? [{ application: "page" }]).map((server, index) => ({
          peerId: server.peerId ?? server.instance ?? `${server.application}#${index}`,
          identity: identityOf(server),
        })),
      }));
      const intents = typeof options.intents === "function" ? await options.intents() : (options.intents ?? []);
      return { methods, intents };
    },
    async invoke({ method, arguments: args, target }) {
      return options.invoke(method, args ?? {}, target ?? "best");
    },
    async raise({ intent, context, app, instance }) {
      if (!options.raise) throw busError("intent_not_resolved", `${intent}: this page offers no intents`);
      return options.raise(intent, context, { app, instance });
    },
  };
}
