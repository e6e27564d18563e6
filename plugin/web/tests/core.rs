//! The browser core natively, over an in-memory bridge that plays the page: the three
//! operations answer with the desktop texts, calls leave as page requests, and replies
//! (values and errors) come back into the snippet.
#![expect(clippy::expect_used, reason = "test helpers fail loudly and early")]

use std::{cell::RefCell, collections::VecDeque, rc::Rc, time::Duration};

use codemode_engine::PortClosed;
use codemode_web::{Bridge, Core, ListArgs, Stopped, calls::Reply, core, model::BusModel};
use serde_json::{Value, json};

/// The page: answers every request at once with `answer(request)`.
#[derive(Clone)]
struct FakePage {
    requests: Rc<RefCell<Vec<Value>>>,
    replies: Rc<RefCell<VecDeque<Reply>>>,
    answer: Rc<dyn Fn(&Value) -> Value>,
}

impl FakePage {
    fn new(answer: impl Fn(&Value) -> Value + 'static) -> Self {
        Self {
            requests: Rc::default(),
            replies: Rc::default(),
            answer: Rc::new(answer),
        }
    }
}

impl Bridge for FakePage {
    fn start(&mut self, ticket: u64, request: &Value) -> Result<(), PortClosed> {
        self.requests.borrow_mut().push(request.clone());
        let mut reply = (self.answer)(request);
        reply["ticket"] = json!(ticket);
        let reply: Reply = serde_json::from_value(reply).map_err(|_| PortClosed)?;
        self.replies.borrow_mut().push_back(reply);
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<Reply>, PortClosed> {
        Ok(self.replies.borrow_mut().pop_front())
    }

    fn wait(&mut self, _timeout: Duration) -> Result<Option<Reply>, PortClosed> {
        Ok(self.replies.borrow_mut().pop_front())
    }
}

fn model() -> BusModel {
    serde_json::from_value(json!({
        "generation": 1,
        "methods": [
            {"name": "CRM.GetClients", "accepts": "String adviser",
             "returns": "Composite: { String name, Double aum }[] clients",
             "servers": [{"peerId": "crm-1", "identity": {"application": "CRM"}}]},
            {"name": "Orders.Submit", "accepts": "String symbol",
             "servers": [{"peerId": "orders-1", "identity": {"application": "Orders"}}]}
        ]
    }))
    .expect("model")
}

fn page() -> FakePage {
    FakePage::new(|request| match request["method"].as_str() {
        Some("CRM.GetClients") => json!({"value": {"clients": [
            {"name": "M Carter", "aum": 2.5}, {"name": "J Okafor", "aum": 1.5}]}}),
        _ => json!({"error": {"kind": "invocation_failed", "message": "market closed",
                               "reasonUri": "orders.closed"}}),
    })
}

#[test]
fn list_and_get_answer_with_the_catalogue_texts() {
    let mut core = Core::new(page()).expect("core");
    core.set_model(&model(), 0).expect("model");
    let listing = core.list(ListArgs::default());
    assert!(!listing.is_error);
    assert!(listing.text.contains("crm.get_clients"), "{}", listing.text);
    let stubs = core.get(&["crm.get_clients".to_owned()]);
    assert!(stubs.text.contains("def get_clients("), "{}", stubs.text);
    let none = core.get(&[]);
    assert!(none.is_error);
    assert_eq!(none.text, codemode_catalogue::NO_NAMES_GIVEN);
}

#[test]
fn a_snippet_calls_the_page_under_wire_names_and_reads_the_reply() {
    let page = page();
    let mut core = Core::new(page.clone()).expect("core");
    core.set_model(&model(), 0).expect("model");
    let answer = core.execute(
        "rows = crm.get_clients(adviser=\"Ann\")[\"clients\"]\nresult = max(rows, key=lambda r: r[\"aum\"])[\"name\"]",
        None,
    );
    assert!(!answer.is_error, "{}", answer.text);
    assert!(
        answer
            .text
            .starts_with("result: M Carter\nbus calls: 1 (crm.get_clients)"),
        "{}",
        answer.text
    );
    let requests = page.requests.borrow();
    assert_eq!(requests[0]["kind"], "invoke");
    assert_eq!(requests[0]["method"], "CRM.GetClients");
    assert_eq!(requests[0]["arguments"], json!({"adviser": "Ann"}));
}

#[test]
fn a_page_error_is_the_python_exception_of_its_kind() {
    let mut core = Core::new(page()).expect("core");
    core.set_model(&model(), 0).expect("model");
    let answer = core.execute(
        "try:\n    orders.submit(symbol=\"X\")\nexcept InvocationFailedError as e:\n    result = [str(e), e.reason_uri]",
        None,
    );
    assert!(
        answer
            .text
            .starts_with("result: [\"market closed\",\"orders.closed\"]"),
        "{}",
        answer.text
    );
}

#[test]
fn a_function_whose_app_left_is_refused_with_who_left() {
    let mut core = Core::new(page()).expect("core");
    core.set_model(&model(), 0).expect("model");
    let mut gone = model();
    gone.generation = 2;
    gone.methods.retain(|method| method.name != "Orders.Submit");
    core.set_model(&gone, 1_700_000_000_000).expect("model");
    let answer = core.execute("orders.submit(symbol=\"X\")", None);
    assert!(answer.is_error);
    assert!(answer.text.contains("Orders"), "{}", answer.text);
}

#[test]
fn a_run_stopped_by_the_page_reads_like_the_desktop_kill() {
    let answer = core::stopped(
        Stopped::WallTime,
        Some(Duration::from_secs(2)),
        2250.0,
        "",
        Vec::new(),
    );
    assert!(answer.is_error);
    assert!(
        answer.text.starts_with(
            "LimitExceeded: wall time limit of 2 s exceeded: the snippet did not stop"
        ),
        "{}",
        answer.text
    );
    let memory = core::stopped(Stopped::Memory, None, 10.0, "", Vec::new());
    assert!(
        memory
            .text
            .starts_with("MemoryError: memory limit of 1024 MiB exceeded"),
        "{}",
        memory.text
    );
}
