//! The user stays in control, end to end on the mock bus with realistic write methods
//! (`OrderTicket.PlaceOrder`, `CRM.SetAdviser`): the policy hides, refuses and caps before any
//! bus call; a call that needs approval waits in place while the snippet's other calls run;
//! declines and timeouts are `ApprovalDeniedError`s the snippet can catch; PII reaches the
//! model as placeholders and the bus as the real values; the audit log has no clear-text PII.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

pub mod control_support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use codemode::{
    bridge::CallReport,
    catalogue::ListRequest,
    control::{ApprovalRequest, Approver, Decision, FixedApprover, PiiSession, SessionControl},
    service::{ExecuteOptions, render_outcome},
};
use control_support::Env;
use serde_json::{Value, json};

/// Answers after the ten reads of the gather finished (or 10 s), then another `hold`.
struct AfterReads {
    reads_done: Arc<AtomicUsize>,
    seen_when_asked: Mutex<Vec<usize>>,
    seen_when_answered: Mutex<Vec<usize>>,
    requests: Mutex<Vec<ApprovalRequest>>,
    hold: Duration,
}

#[async_trait]
impl Approver for AfterReads {
    fn describe(&self) -> String {
        "test approver".to_owned()
    }

    async fn decide(&self, request: &ApprovalRequest) -> Decision {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        if let Ok(mut seen) = self.seen_when_asked.lock() {
            seen.push(self.reads_done.load(Ordering::SeqCst));
        }
        let started = Instant::now();
        while self.reads_done.load(Ordering::SeqCst) < 10
            && started.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Ok(mut seen) = self.seen_when_answered.lock() {
            seen.push(self.reads_done.load(Ordering::SeqCst));
        }
        tokio::time::sleep(self.hold).await;
        Decision::Approved {
            by: "test".to_owned(),
        }
    }
}

/// Never answers.
struct Silent;

#[async_trait]
impl Approver for Silent {
    fn describe(&self) -> String {
        "silent".to_owned()
    }

    async fn decide(&self, _request: &ApprovalRequest) -> Decision {
        std::future::pending().await
    }
}

fn with_approver(approver: Arc<dyn Approver>) -> ExecuteOptions {
    ExecuteOptions {
        control: SessionControl {
            approver: Some(approver),
            pii: None,
            session: "test".to_owned(),
        },
        ..ExecuteOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gather_of_ten_reads_finishes_while_the_approved_write_waits_and_the_wait_is_off_the_clock()
 {
    let env = Env::start(
        "gather",
        "[policy]\napprove = \"writes\"\napproval_timeout_seconds = 30\n",
    )
    .await;
    let reads_done = Arc::new(AtomicUsize::new(0));
    let approver = Arc::new(AfterReads {
        reads_done: Arc::clone(&reads_done),
        seen_when_asked: Mutex::new(Vec::new()),
        seen_when_answered: Mutex::new(Vec::new()),
        requests: Mutex::new(Vec::new()),
        // Longer than the wall time plus the pool's kill grace (1 s + 1 s): neither the worker nor
        // the pool may stop the run while it waits.
        hold: Duration::from_millis(2_500),
    });
    let counter = Arc::clone(&reads_done);
    let mut options = with_approver(Arc::clone(&approver) as Arc<dyn Approver>);
    options.observer = Some(Arc::new(move |report: &CallReport| {
        if report.function == "crm.get_advisers" && report.error.is_none() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    // The snippet may run for one second; the approval takes longer than that.
    options.timeout = Some(Duration::from_secs(1));
    let snippet = "rows = gather(\n    order_ticket.place_order(symbol='AAPL', side='buy', quantity=100),\n    *[crm.get_advisers() for _ in range(10)],\n)\nresult = {'order': rows[0]['order']['symbol'], 'reads': len(rows) - 1}";
    let outcome = env.service.execute(snippet, options).await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result, json!({"order": "AAPL", "reads": 10}));
    let asked = approver.seen_when_asked.lock().expect("lock").clone();
    let answered = approver.seen_when_answered.lock().expect("lock").clone();
    assert_eq!(asked.len(), 1, "one approval for the one write");
    assert_eq!(
        answered,
        vec![10],
        "all ten reads finished while the write waited"
    );
    assert!(
        outcome.duration_ms > 1_000.0,
        "the run took {} ms, past its 1 s wall time, because the wait did not count",
        outcome.duration_ms
    );
    let request = approver.requests.lock().expect("lock")[0].clone();
    assert_eq!(request.function, "order_ticket.place_order");
    assert_eq!(request.wire, "OrderTicket.PlaceOrder");
    assert_eq!(request.apps, vec!["OrderTicket".to_owned()]);
    assert_eq!(request.arguments["symbol"], "AAPL");
    assert_eq!(
        request.lines.first().map(|line| line.0),
        Some(2),
        "{:?}",
        request.lines
    );
    let orders = env.orders().await;
    assert_eq!(orders.len(), 1, "the approved order reached the bus once");
    let audit = env.audit_text();
    assert!(
        audit.contains("\"approval_requested\"") && audit.contains("\"approved\""),
        "{audit}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_write_is_an_approval_denied_error_the_snippet_catches_and_nothing_is_sent() {
    let env = Env::start("declined", "[policy]\napprove = \"writes\"\n").await;
    let snippet = "try:\n    crm.set_adviser(client_id='c-001', adviser='J Doe')\n    result = 'sent'\nexcept ApprovalDeniedError as error:\n    result = {'caught': error.reason_uri, 'kind': error.kind, 'text': str(error)}\nadvisers = crm.get_advisers()";
    let outcome = env
        .service
        .execute(
            snippet,
            with_approver(Arc::new(FixedApprover { approve: false })),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result["caught"], "declined");
    assert_eq!(outcome.result["kind"], "approval_denied");
    let text = outcome.result["text"].as_str().expect("text");
    assert!(
        text.contains("crm.set_adviser") && text.contains("did not go out"),
        "{text}"
    );
    let set_adviser: Vec<_> = outcome
        .calls
        .iter()
        .filter(|call| call.function == "crm.set_adviser")
        .collect();
    assert_eq!(set_adviser.len(), 1);
    assert!(
        !set_adviser[0].ok,
        "the declined call is recorded as failed"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_approver_or_an_answer_in_time_the_call_fails_closed() {
    let env = Env::start(
        "closed",
        "[policy]\napprove = \"writes\"\napproval_timeout_seconds = 0.5\n",
    )
    .await;
    let snippet = "order_ticket.place_order(symbol='MSFT', side='sell', quantity=5)";
    let outcome = env
        .service
        .execute(snippet, ExecuteOptions::default())
        .await;
    let error = outcome.error.clone().expect("fails");
    assert_eq!(
        error.kind,
        "ApprovalDeniedError",
        "{}",
        render_outcome(&outcome)
    );
    assert!(error.message.contains("no approver"), "{}", error.message);
    assert!(
        error
            .details
            .as_ref()
            .is_some_and(|details| details["side_effects"] == json!(["order_ticket.place_order"])),
        "the outcome lists the side effects: {:?}",
        error.details
    );

    let started = Instant::now();
    let outcome = env
        .service
        .execute(
            "try:\n    order_ticket.place_order(symbol='MSFT', side='sell', quantity=5)\nexcept ApprovalDeniedError as error:\n    result = error.reason_uri",
            with_approver(Arc::new(Silent)),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert_eq!(outcome.result, json!("timeout"));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(env.orders().await.is_empty(), "no order reached the bus");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_writes_before_any_bus_call_and_says_so_in_listings() {
    let env = Env::start("readonly", "[policy]\nread_only = true\n").await;
    let page = env.service.list(&ListRequest {
        namespace: Some("order_ticket".into()),
        ..ListRequest::default()
    });
    assert!(
        page.text.contains("order_ticket.place_order(")
            && page.text.contains("[writes — refused (read-only policy)]"),
        "{}",
        page.text
    );
    let outcome = env
        .service
        .execute(
            "orders = order_ticket.get_orders()\norder_ticket.place_order(symbol='AAPL', side='buy', quantity=1)",
            with_approver(Arc::new(FixedApprover { approve: true })),
        )
        .await;
    let error = outcome.error.clone().expect("refused");
    assert_eq!(error.kind, "PolicyError");
    assert!(error.message.contains("read-only"), "{}", error.message);
    assert_eq!(error.line, Some(2));
    assert!(
        env.orders().await.is_empty(),
        "nothing reached the order ticket"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_methods_are_absent_from_list_search_and_get_and_a_reload_shows_them_again() {
    let env = Env::start(
        "hidden",
        "[policy]\n[policy.deny]\nmethods = [\"CRM.SetAdviser\"]\napps = [\"Diagnostics\"]\n",
    )
    .await;
    let listing = env.service.list(&ListRequest::default()).text;
    assert!(!listing.contains("set_adviser"), "{listing}");
    assert!(!listing.contains("diagnostics."), "{listing}");
    let search = env.service.list(&ListRequest {
        query: Some("set adviser client".into()),
        ..ListRequest::default()
    });
    assert!(!search.text.contains("set_adviser"), "{}", search.text);
    let got = env.service.get(&["crm.set_adviser".to_owned()]);
    assert!(got.found.is_empty(), "{}", got.text);
    let outcome = env
        .service
        .execute(
            "crm.set_adviser(client_id='c-001', adviser='J Doe')",
            ExecuteOptions::default(),
        )
        .await;
    let error = outcome.error.clone().expect("refused");
    assert!(
        error.message.contains("hidden by this device's policy"),
        "{}",
        render_outcome(&outcome)
    );

    // The file changes: the next request sees the new policy, no restart.
    std::fs::write(&env.config, "[policy]\napprove = \"none\"\n").expect("rewrite the policy");
    let listing = env.service.list(&ListRequest {
        namespace: Some("crm".into()),
        ..ListRequest::default()
    });
    assert!(
        listing.text.contains("crm.set_adviser("),
        "{}",
        listing.text
    );
    let outcome = env
        .service
        .execute(
            "result = crm.set_adviser(client_id='c-001', adviser='J Doe')",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_per_function_refuses_the_call_past_it() {
    let env = Env::start(
        "caps",
        "[policy]\n[policy.caps]\n\"OrderTicket.PlaceOrder\" = 1\n",
    )
    .await;
    let outcome = env
        .service
        .execute(
            "order_ticket.place_order(symbol='A', side='buy', quantity=1)\ntry:\n    order_ticket.place_order(symbol='B', side='buy', quantity=1)\nexcept PolicyError as error:\n    result = str(error)",
            ExecuteOptions::default(),
        )
        .await;
    assert!(outcome.ok, "{}", render_outcome(&outcome));
    assert!(
        outcome
            .result
            .as_str()
            .is_some_and(|text| text.contains("at most 1")),
        "{}",
        outcome.result
    );
    assert_eq!(env.orders().await.len(), 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pii_is_tokenized_for_the_model_restored_for_the_bus_and_never_in_the_audit_log() {
    let env = Env::start(
        "pii",
        "[policy]\napprove_also = [\"OrderTicket.PlaceOrder\"]\n[policy.pii]\nfields = [\"phone\"]\npatterns = [\"email\"]\nname_fields = [\"name\"]\n",
    )
    .await;
    let client = env
        .probe("CRM.GetClient", json!({"clientId": "c-001"}))
        .await;
    let real_email = client["client"]["email"]
        .as_str()
        .expect("email")
        .to_owned();
    let real_name = client["client"]["name"].as_str().expect("name").to_owned();
    let session = Arc::new(PiiSession::new());
    let options = || ExecuteOptions {
        control: SessionControl {
            approver: Some(Arc::new(FixedApprover { approve: true })),
            pii: Some(Arc::clone(&session)),
            session: "pii-test".to_owned(),
        },
        ..ExecuteOptions::default()
    };
    let first = env
        .service
        .execute(
            "c = crm.get_client(client_id='c-001')['client']\nprint('writing to', c['email'], 'for', c['name'])\nresult = {'email': c['email'], 'name': c['name'], 'phone': c['phone']}",
            options(),
        )
        .await;
    assert!(first.ok, "{}", render_outcome(&first));
    let text = render_outcome(&first);
    assert!(
        !text.contains(&real_email) && !text.contains(&real_name),
        "{text}"
    );
    assert_eq!(first.result["email"], "<email_1>");
    assert_eq!(first.result["name"], "<name_1>");
    assert_eq!(first.result["phone"], "<phone_1>");
    assert!(
        first.printed.contains("writing to <email_1> for <name_1>"),
        "{}",
        first.printed
    );

    // The model passes the placeholders back, alone and inside a string.
    let second = env
        .service
        .execute(
            "found = crm.find_client_by_email(email='<email_1>')['client']['id']\norder = order_ticket.place_order(symbol='AAPL', side='buy', quantity=10, client_email='<email_1>', note='for <name_1> (c-001)')['order']\nresult = {'found': found, 'order_email': order['clientEmail']}",
            options(),
        )
        .await;
    assert!(second.ok, "{}", render_outcome(&second));
    assert_eq!(
        second.result["found"], "c-001",
        "the bus got the real email"
    );
    assert_eq!(
        second.result["order_email"], "<email_1>",
        "and the model sees the placeholder again"
    );
    let orders = env.orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["clientEmail"], json!(real_email));
    assert_eq!(orders[0]["note"], json!(format!("for {real_name} (c-001)")));

    let audit = env.audit_text();
    assert!(audit.contains("approval_requested"), "{audit}");
    assert!(
        !audit.contains(&real_email),
        "clear-text email in the audit log: {audit}"
    );
    assert!(
        !audit.contains(&real_name),
        "clear-text name in the audit log: {audit}"
    );
    let requested: Vec<Value> = audit
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["event"] == "approval_requested")
        .collect();
    assert_eq!(
        requested[0]["request"]["arguments"]["client_email"],
        "<email_1>"
    );
    env.stop().await;
}
