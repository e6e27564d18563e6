//! The two-turn exploration: the model first looks at data it does not know the shape of, then
//! answers from it. Classic tool calling puts the whole `CRM.GetClients` result in the history;
//! code mode runs both snippets in one session, so the first run's large result stays on the
//! device as `_r1` (the model reads its preview) and the second run works on it without a
//! second bus call.

use serde_json::{Value, json};

use super::{
    Block, Scenario,
    classic::{ClassicTools, mismatch, text_field, thousands_f64, tool_use},
    scenarios::{Played, code_transcript, list},
};
use crate::{
    Error,
    service::{CodeMode, ExecuteOptions, render_outcome},
    sessions::{ClientSessions, DEFAULT_SESSION, SessionLimits, SessionRequest},
};

/// The snippet that looks at the data: every client, too large to send, so kept as `_r1`.
const LOOK: &str = "clients = crm.get_clients()['clients']\nresult = clients";

/// The snippet that answers from the kept data (`{data}`: `_r1`, or `clients` when the result
/// was small enough to send, as with a handful of clients).
const ANSWER: &str = "totals = {}\n\
for c in {data}:\n    totals[c['adviser']] = totals.get(c['adviser'], 0) + c['aum']\n\
top = max(totals, key=totals.get)\n\
best = sorted([c for c in {data} if c['adviser'] == top], key=lambda c: c['aum'], reverse=True)[:3]\n\
result = {'adviser': top, 'total': round(totals[top]), 'largest': [c['name'] for c in best]}";

pub(super) async fn explore(service: &CodeMode, tools: &ClassicTools) -> Result<Played, Error> {
    let scenario = Scenario::Explore;
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    let (call, found) = tools.invoke(bus, "CRM.GetClients", json!({})).await?;
    classic.call(call);
    let clients: Vec<Value> = found
        .ok()
        .as_ref()
        .and_then(|value| value.get("clients"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut totals: Vec<(String, f64)> = Vec::new();
    for client in &clients {
        let adviser = text_field(client, "adviser");
        let aum = client.get("aum").and_then(Value::as_f64).unwrap_or(0.0);
        match totals.iter_mut().find(|(known, _)| *known == adviser) {
            Some((_, total)) => *total += aum,
            None => totals.push((adviser, aum)),
        }
    }
    // Python's max keeps the first of equal totals; so does this fold.
    let (top, total) = totals
        .iter()
        .fold(None::<&(String, f64)>, |best, entry| match best {
            Some(best) if best.1 >= entry.1 => Some(best),
            _ => Some(entry),
        })
        .cloned()
        .ok_or_else(|| mismatch(scenario, "the CRM has no clients"))?;
    let mut theirs: Vec<&Value> = clients
        .iter()
        .filter(|client| text_field(client, "adviser") == top)
        .collect();
    theirs.sort_by(|a, b| {
        let aum = |c: &Value| c.get("aum").and_then(Value::as_f64).unwrap_or(0.0);
        aum(b).total_cmp(&aum(a))
    });
    let largest: Vec<String> = theirs
        .iter()
        .take(3)
        .map(|client| text_field(client, "name"))
        .collect();
    let answer = format!(
        "{top} has the most client assets ({} in total across currencies); their largest \
         clients are {}.",
        thousands_f64(total.round()),
        largest.join(", ")
    );
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    for call in list(
        service,
        scenario,
        "clients adviser assets",
        &["crm.get_clients"],
    )? {
        code.call(call);
    }
    let sessions = ClientSessions::new(SessionLimits::default());
    let request = SessionRequest {
        name: DEFAULT_SESSION.to_owned(),
        reset: false,
    };
    let run = async |snippet: &str| -> (Block, String, crate::sandbox::Outcome) {
        let run = sessions
            .execute(service, &request, snippet, ExecuteOptions::default())
            .await;
        let mut text = render_outcome(&run.outcome);
        text.push_str(&run.note);
        text.push('\n');
        (
            tool_use(
                "execute_python_code",
                &json!({"code": snippet, "session": true}),
            ),
            text,
            run.outcome,
        )
    };
    let (block, text, looked) = run(LOOK).await;
    let large = clients.len() > 20;
    if !looked.ok || (large && looked.result_ref.as_deref() != Some("_r1")) {
        return Err(mismatch(
            scenario,
            &format!("the first run should keep its large result as _r1: {text}"),
        ));
    }
    code.call((block, text));
    let data = looked.result_ref.as_deref().unwrap_or("clients");
    let (block, text, answered) = run(&ANSWER.replace("{data}", data)).await;
    let expected = json!({"adviser": top, "total": total.round(), "largest": largest});
    if !answered.ok
        || answered.result.get("adviser") != expected.get("adviser")
        || answered.result.get("largest") != expected.get("largest")
    {
        return Err(mismatch(
            scenario,
            &format!("the answer differs: {text} vs {expected}"),
        ));
    }
    code.call((block, text));
    code.answer(&answer);
    Ok((classic, code, answer))
}
