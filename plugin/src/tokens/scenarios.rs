//! The scripted scenarios, played in both arms, and code mode's side of each: the search page
//! (whose top hits carry the typed signatures the snippet is written from) and the snippets,
//! all from the live service.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{
    ADVISER, Block, FAN_OUT, Scenario, Transcript,
    classic::{ClassicTools, largest_clients, mismatch, thousands_f64, tool_use},
};
use crate::{
    Error,
    catalogue::ListRequest,
    service::{CodeMode, ExecuteOptions, render_outcome},
};

/// (classic transcript, code mode transcript, the answer).
pub(super) type Played = (Transcript, Transcript, String);

pub(super) async fn seed(
    service: &CodeMode,
    tools: &ClassicTools,
    retry: bool,
) -> Result<Played, Error> {
    let scenario = if retry {
        Scenario::Retry
    } else {
        Scenario::Seed
    };
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    if retry {
        // The same slip in both arms: the client's name passed as its id.
        let (call, failed) = tools
            .invoke(bus, "CRM.GetClient", json!({"clientId": "Amelia Reid"}))
            .await?;
        if failed.is_ok() {
            return Err(mismatch(scenario, "CRM.GetClient by name should fail"));
        }
        classic.call(call);
    }
    let (call, found) = tools
        .invoke(
            bus,
            "CRM.GetClients",
            json!({"nameContains": "Amelia Reid"}),
        )
        .await?;
    classic.call(call);
    let adviser = found
        .ok()
        .as_ref()
        .and_then(|value| value.pointer("/clients/0/adviser"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| mismatch(scenario, "CRM.GetClients found no Amelia Reid"))?;
    let answer = format!("Amelia Reid's adviser is {adviser}.");
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    let wanted: &[&str] = if retry {
        &["crm.get_client", "crm.get_clients"]
    } else {
        &["crm.get_clients"]
    };
    for call in list(service, scenario, "client adviser", wanted)? {
        code.call(call);
    }
    if retry {
        let (call, outcome) = execute(
            service,
            "result = crm.get_client(client_id='Amelia Reid')['client']['adviser']",
        )
        .await;
        if outcome.ok {
            return Err(mismatch(scenario, "the first snippet should fail"));
        }
        code.call(call);
    }
    let (call, outcome) = execute(
        service,
        "found = crm.get_clients(name_contains='Amelia Reid')['clients']\n\
         result = found[0]['adviser']",
    )
    .await;
    expect_result(scenario, &outcome.result, &json!(adviser), outcome.ok)?;
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

pub(super) async fn multi_step(service: &CodeMode, tools: &ClassicTools) -> Result<Played, Error> {
    let scenario = Scenario::MultiStep;
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    let (call, found) = tools
        .invoke(bus, "CRM.GetClients", json!({"adviser": ADVISER}))
        .await?;
    classic.call(call);
    let top = largest_clients(found.ok().as_ref(), 5);
    let first = top
        .first()
        .ok_or_else(|| mismatch(scenario, "the adviser has no clients"))?;
    let context = json!({"type": "fdc3.contact", "name": first.name, "id": {"clientId": first.id}});
    let (call, shown) = tools.raise(bus, "ViewPortfolio", context).await?;
    if shown.is_err() {
        return Err(mismatch(scenario, "raising ViewPortfolio failed"));
    }
    classic.call(call);
    let mut answer = format!("{ADVISER}'s largest clients by assets under management:\n");
    for (rank, client) in top.iter().enumerate() {
        let _ = writeln!(
            answer,
            "{}. {} ({}): {} {}",
            rank + 1,
            client.name,
            client.id,
            thousands_f64(client.aum),
            client.currency
        );
    }
    let _ = write!(answer, "I opened {}'s portfolio.", first.name);
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    for call in list(
        service,
        scenario,
        "clients adviser assets open portfolio",
        &["crm.get_clients", "intents.view_portfolio"],
    )? {
        code.call(call);
    }
    let (call, outcome) = execute(
        service,
        &format!(
            "clients = crm.get_clients(adviser={ADVISER:?})['clients']\n\
             top = sorted(clients, key=lambda c: c['aum'], reverse=True)[:5]\n\
             first = top[0]\n\
             intents.view_portfolio({{'type': 'fdc3.contact', 'name': first['name'], 'id': {{'clientId': first['id']}}}})\n\
             for c in top:\n    print(c['id'], c['name'], c['aum'], c['currency'])\n\
             result = 'opened the portfolio of ' + first['name']"
        ),
    )
    .await;
    expect_result(
        scenario,
        &outcome.result,
        &json!(format!("opened the portfolio of {}", first.name)),
        outcome.ok,
    )?;
    for client in &top {
        if !outcome.printed.contains(&client.id) {
            return Err(mismatch(scenario, "the snippet printed other clients"));
        }
    }
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

pub(super) async fn fan_out(service: &CodeMode, tools: &ClassicTools) -> Result<Played, Error> {
    let scenario = Scenario::FanOut;
    let bus = service.bus().as_ref();
    let mut classic = tools.transcript(scenario);
    let (call, found) = tools
        .invoke(bus, "CRM.GetClients", json!({"adviser": ADVISER}))
        .await?;
    classic.call(call);
    let top = largest_clients(found.ok().as_ref(), FAN_OUT);
    let mut calls = Vec::new();
    let mut totals: Vec<(String, f64)> = Vec::new();
    for client in &top {
        // One assistant turn with parallel tool calls, as current APIs allow.
        let (call, book) = tools
            .invoke(bus, "Portfolio.GetHoldings", json!({"clientId": client.id}))
            .await?;
        calls.push(call);
        let holdings = book
            .ok()
            .and_then(|book| book.get("holdings").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        for holding in holdings {
            let symbol = holding.get("symbol").and_then(Value::as_str).unwrap_or("");
            let value = holding
                .get("marketValue")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            match totals.iter_mut().find(|(known, _)| known == symbol) {
                Some((_, total)) => *total += value,
                None => totals.push((symbol.to_owned(), value)),
            }
        }
    }
    classic.calls(calls);
    totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut answer = format!(
        "Across the holdings of {ADVISER}'s {} largest clients ({} instruments), the largest \
         totals by market value are: ",
        top.len(),
        totals.len()
    );
    let largest: Vec<String> = totals
        .iter()
        .take(5)
        .map(|(symbol, total)| format!("{symbol} {}", thousands_f64(total.round())))
        .collect();
    answer.push_str(&largest.join(", "));
    answer.push('.');
    classic.answer(&answer);

    let mut code = code_transcript(scenario);
    for call in list(
        service,
        scenario,
        "adviser clients holdings",
        &["crm.get_clients", "portfolio.get_holdings"],
    )? {
        code.call(call);
    }
    let (call, outcome) = execute(
        service,
        &format!(
            "clients = crm.get_clients(adviser={ADVISER:?})['clients']\n\
             top = sorted(clients, key=lambda c: c['aum'], reverse=True)[:{FAN_OUT}]\n\
             books = gather(*[portfolio.get_holdings(client_id=c['id']) for c in top])\n\
             totals = {{}}\n\
             for book in books:\n    for h in book['holdings']:\n        totals[h['symbol']] = totals.get(h['symbol'], 0.0) + h['marketValue']\n\
             ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)\n\
             result = {{'clients': len(top), 'instruments': len(ranked), 'largest': [[s, round(v)] for s, v in ranked[:5]]}}"
        ),
    )
    .await;
    let expected = json!({
        "clients": top.len(),
        "instruments": totals.len(),
        "largest": totals.iter().take(5).map(|(symbol, total)| json!([symbol, total.round()])).collect::<Vec<_>>(),
    });
    if !outcome.ok
        || outcome.result.get("instruments") != expected.get("instruments")
        || outcome.result.pointer("/largest/0/0") != expected.pointer("/largest/0/0")
    {
        return Err(mismatch(
            scenario,
            &format!(
                "the snippet's totals differ: {} vs {expected}",
                render_outcome(&outcome)
            ),
        ));
    }
    code.call(call);
    code.answer(&answer);
    Ok((classic, code, answer))
}

// ---------------------------------------------------------------------------------------------
// Code mode's side

pub(super) fn code_transcript(scenario: Scenario) -> Transcript {
    let definitions = code_mode_tools();
    let mut transcript = Transcript::new(
        definitions.as_array().map_or(0, Vec::len),
        definitions.to_string(),
        scenario,
    );
    CODE_MODE_INSTRUCTIONS.clone_into(&mut transcript.instructions);
    transcript
}

/// The search step; the page must show every function the snippet calls with its typed
/// signature (a card: a line starting with the name and its parameters), since the script
/// writes the snippet from the page alone.
pub(super) fn list(
    service: &CodeMode,
    scenario: Scenario,
    query: &str,
    needed: &[&str],
) -> Result<Vec<(Block, String)>, Error> {
    let page = service.list(&ListRequest {
        query: Some(query.to_owned()),
        ..ListRequest::default()
    });
    // What a model does when the page names a function it needs without its signature: one
    // `get_python_definitions` round trip for those.
    let missing: Vec<String> = needed
        .iter()
        .filter(|name| {
            let card = format!("{name}(");
            !page.text.lines().any(|line| line.starts_with(&card))
        })
        .map(|name| (*name).to_owned())
        .collect();
    let mut calls = vec![(
        tool_use("list_python_definitions", &json!({"query": query})),
        page.text,
    )];
    if !missing.is_empty() {
        let definitions = service.get(&missing);
        if !definitions.unknown.is_empty() {
            return Err(mismatch(
                scenario,
                &format!("the catalogue has no {:?}", definitions.unknown),
            ));
        }
        calls.push((
            tool_use("get_python_definitions", &json!({"names": missing})),
            definitions.text,
        ));
    }
    Ok(calls)
}

async fn execute(service: &CodeMode, code: &str) -> ((Block, String), crate::sandbox::Outcome) {
    let outcome = service.execute(code, ExecuteOptions::default()).await;
    (
        (
            tool_use("execute_python_code", &json!({"code": code})),
            render_outcome(&outcome),
        ),
        outcome,
    )
}

fn expect_result(scenario: Scenario, got: &Value, wanted: &Value, ok: bool) -> Result<(), Error> {
    if ok && got == wanted {
        Ok(())
    } else {
        Err(mismatch(
            scenario,
            &format!("the snippet returned {got}, expected {wanted}"),
        ))
    }
}

/// The three Code Mode tools as the MCP server lists them (name, description, input schema;
/// `$schema` and `title` stripped). A test compares this copy with the server's `tools/list`.
pub fn code_mode_tools() -> Value {
    json!([
        {
            "name": "list_python_definitions",
            "description": "Search the Python functions for desktop apps: top hits with typed signatures, the rest by name. Filter by namespace, page with cursor.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "query": {"description": "Search words, e.g. \"client adviser\".", "type": ["string", "null"], "default": null},
                    "namespace": {"description": "Only this namespace, e.g. \"crm\".", "type": ["string", "null"], "default": null},
                    "cursor": {"description": "next_cursor of the previous page.", "type": ["string", "null"], "default": null},
                    "detail": {"description": "names, signatures (default) or stubs.", "type": ["string", "null"], "default": null}
                }
            }
        },
        {
            "name": "get_python_definitions",
            "description": "Get typed Python stubs (signatures, docs, result types) for functions by qualified name.",
            "input_schema": {
                "type": "object",
                "required": ["names"],
                "properties": {
                    "names": {"description": "Qualified names, e.g. crm.get_clients.", "type": "array", "items": {"type": "string"}}
                }
            }
        },
        {
            "name": "execute_python_code",
            "description": "Run a Python snippet on the device with those functions. Returns `result`, printed output and a summary of bus calls.",
            "input_schema": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"description": "Python source.", "type": "string"},
                    "timeout_seconds": {"description": "Wall-time limit in seconds (default: the server's, 30 unless configured).", "type": ["number", "null"], "format": "double", "default": null},
                    "session": {"description": "true, a name, or the id an answer gave: keeps variables between calls.", "default": null},
                    "reset": {"description": "Clear the session's variables first.", "type": "boolean", "default": false}
                }
            }
        }
    ])
}

/// The instructions the MCP server sends at initialization, which clients add to the system
/// prompt: counted in every code-mode request.
pub use crate::mcp::INSTRUCTIONS as CODE_MODE_INSTRUCTIONS;
