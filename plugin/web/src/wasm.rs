//! The browser module's surface: the exports the worker script calls and the one host-call
//! import it provides (`globalThis.__codemodeHost`: `start`, `poll`, `wait`). Only `wait`
//! suspends (JSPI); an Atomics-based bridge could replace these three functions for browsers
//! without JSPI. One operation runs at a time; the worker script queues the rest.
#![expect(
    deprecated,
    reason = "wasm-bindgen marks JSPI (`jspi` exports, `jspi_block_on_promise`) experimental"
)]

use std::{cell::RefCell, time::Duration};

use codemode_engine::{CallRecord, PortClosed};
use js_sys::Promise;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::{
    Error,
    calls::Reply,
    core::{self, Answer, Bridge, Core, ListArgs, Stopped},
    model::BusModel,
};

#[wasm_bindgen]
extern "C" {
    /// Sends request `ticket` (JSON) to the page; does not block.
    #[wasm_bindgen(js_namespace = __codemodeHost, js_name = start, catch)]
    fn host_start(ticket: f64, request: &str) -> Result<(), JsValue>;

    /// A reply (JSON) that has already arrived, or `undefined`.
    #[wasm_bindgen(js_namespace = __codemodeHost, js_name = poll, catch)]
    fn host_poll() -> Result<Option<String>, JsValue>;

    /// A promise of the next reply (JSON), or of `undefined` after `timeout_ms`.
    #[wasm_bindgen(js_namespace = __codemodeHost, js_name = wait, catch)]
    fn host_wait(timeout_ms: f64) -> Result<Promise, JsValue>;
}

/// The bridge over the three imports.
#[derive(Clone, Copy)]
struct JsBridge;

fn reply(text: Option<String>) -> Result<Option<Reply>, PortClosed> {
    match text {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| PortClosed),
    }
}

impl Bridge for JsBridge {
    fn start(&mut self, ticket: u64, request: &Value) -> Result<(), PortClosed> {
        #[expect(clippy::cast_precision_loss, reason = "tickets stay far below 2^53")]
        let ticket = ticket as f64;
        host_start(ticket, &request.to_string()).map_err(|_| PortClosed)
    }

    fn poll(&mut self) -> Result<Option<Reply>, PortClosed> {
        reply(host_poll().map_err(|_| PortClosed)?)
    }

    fn wait(&mut self, timeout: Duration) -> Result<Option<Reply>, PortClosed> {
        let promise = host_wait(timeout.as_secs_f64() * 1000.0).map_err(|_| PortClosed)?;
        let value = js_sys::futures::jspi_block_on_promise(&promise).map_err(|_| PortClosed)?;
        reply(value.as_string())
    }
}

thread_local! {
    static CORE: RefCell<Option<Core<JsBridge>>> = const { RefCell::new(None) };
}

fn to_js(error: &Error) -> JsError {
    JsError::new(&error.to_string())
}

fn answer(answer: &Answer) -> String {
    serde_json::to_string(answer).unwrap_or_default()
}

fn with_core<T>(f: impl FnOnce(&mut Core<JsBridge>) -> Result<T, Error>) -> Result<T, Error> {
    CORE.with(|cell| {
        let mut core = cell.try_borrow_mut().map_err(|_| Error::Busy)?;
        let core = core.as_mut().ok_or(Error::NotStarted)?;
        f(core)
    })
}

/// Builds the interpreter and an empty catalogue (call once per worker).
#[wasm_bindgen]
pub fn start() -> Result<(), JsError> {
    // A panic aborts (traps) on wasm32: leave its message where the worker script finds it.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &JsValue::from_str("__codemodePanic"),
            &JsValue::from_str(&message),
        );
    }));
    let core = Core::new(JsBridge).map_err(|error| to_js(&error))?;
    CORE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            *slot = Some(core);
            Ok(())
        }
        Err(_) => Err(to_js(&Error::Busy)),
    })
}

/// Folds the page's bus model (JSON) in; returns the number of functions.
#[wasm_bindgen(js_name = setModel)]
pub fn set_model(model: &str, unix_ms: f64) -> Result<u32, JsError> {
    let model: BusModel = serde_json::from_str(model).map_err(|source| {
        to_js(&Error::Json {
            what: "bus model",
            source,
        })
    })?;
    with_core(|core| {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a Unix time in ms"
        )]
        core.set_model(&model, unix_ms.max(0.0) as u64)?;
        Ok(u32::try_from(core.function_count()).unwrap_or(u32::MAX))
    })
    .map_err(|error| to_js(&error))
}

/// `list_python_definitions` (`{query, namespace, cursor}` as JSON) → answer JSON.
#[wasm_bindgen]
pub fn list(args: &str) -> Result<String, JsError> {
    let args: ListArgs = serde_json::from_str(args).map_err(|source| {
        to_js(&Error::Json {
            what: "list arguments",
            source,
        })
    })?;
    with_core(|core| Ok(answer(&core.list(args)))).map_err(|error| to_js(&error))
}

/// `get_python_definitions` (a JSON list of names) → answer JSON.
#[wasm_bindgen]
pub fn get(names: &str) -> Result<String, JsError> {
    let names: Vec<String> = serde_json::from_str(names).map_err(|source| {
        to_js(&Error::Json {
            what: "names",
            source,
        })
    })?;
    with_core(|core| Ok(answer(&core.get(&names)))).map_err(|error| to_js(&error))
}

/// `execute_python_code` → answer JSON. Returns a promise (JSPI): the snippet suspends
/// while its bus calls are pending.
#[wasm_bindgen(jspi)]
#[expect(
    clippy::needless_pass_by_value,
    reason = "owned: the JS glue may free a borrowed string when the run first suspends"
)]
pub fn execute(code: String, timeout_seconds: Option<f64>) -> Result<String, JsError> {
    let timeout = match timeout_seconds
        .map(codemode_engine::parse_timeout_seconds)
        .transpose()
    {
        Ok(timeout) => timeout,
        Err(message) => {
            return Ok(answer(&Answer {
                text: message,
                is_error: true,
                outcome: None,
                recycle: None,
            }));
        }
    };
    with_core(|core| Ok(answer(&core.execute(&code, timeout)))).map_err(|error| to_js(&error))
}

/// The answer for a run the page stopped from outside (`wall_time`, `memory` or `trap`);
/// `calls` is a JSON list of the run's call records so far.
#[wasm_bindgen]
pub fn stopped(
    reason: &str,
    timeout_seconds: Option<f64>,
    elapsed_ms: f64,
    detail: &str,
    calls: &str,
) -> Result<String, JsError> {
    let reason: Stopped =
        serde_json::from_value(Value::String(reason.to_owned())).map_err(|source| {
            to_js(&Error::Json {
                what: "stop reason",
                source,
            })
        })?;
    let calls: Vec<CallRecord> = serde_json::from_str(calls).unwrap_or_default();
    let timeout =
        timeout_seconds.and_then(|seconds| codemode_engine::parse_timeout_seconds(seconds).ok());
    Ok(answer(&core::stopped(
        reason, timeout, elapsed_ms, detail, calls,
    )))
}
