//! The outcome's token caps (`sandbox::outcome::cap_tokens`), counted with o200k_base: printed
//! output and results stay within about 6,000 tokens whatever their characters-per-token
//! ratio, with a visible marker naming the limit.

use std::fmt::Write as _;

use codemode::{
    catalogue::{O200k, TokenCounter},
    sandbox::{
        Limits, Outcome,
        outcome::{cap_tokens, output_marker},
    },
};
use serde_json::{Value, json};

fn count(text: &str) -> usize {
    O200k.count(text)
}

fn outcome(printed: String, result: Value) -> Outcome {
    Outcome {
        ok: true,
        printed,
        result,
        ..Outcome::default()
    }
}

/// Number-heavy lines: about 1.6 characters per token, so 24,000 characters are ~15,000 tokens.
fn dense_lines(lines: usize) -> String {
    let mut text = String::new();
    for i in 0..lines {
        let value = f64::from(u32::try_from(i).unwrap_or(0)) * 1.37;
        let _ = writeln!(text, "{i}: {value:.2}");
    }
    text
}

#[test]
fn small_outcomes_are_left_alone() {
    let limits = Limits::default();
    let mut small = outcome("hello\n".repeat(100), json!({"rows": [1, 2, 3]}));
    let before = small.clone();
    cap_tokens(&mut small, &limits, &count);
    assert_eq!(small, before);
}

#[test]
fn dense_printed_output_is_cut_to_the_token_limit_with_a_marker() {
    let limits = Limits::default();
    let printed = dense_lines(4_000);
    assert!(count(&printed) > 12_000, "{}", count(&printed));
    let total = printed.chars().count();
    let mut capped = outcome(printed.clone(), Value::Null);
    cap_tokens(&mut capped, &limits, &count);
    let tokens = count(&capped.printed);
    assert!((5_000..=6_000).contains(&tokens), "{tokens} tokens");
    assert!(capped.printed_truncated);
    assert!(
        capped.printed.contains(
            "[output truncated: printed output limit of 6000 tokens or 48000 characters reached; "
        ) && capped
            .printed
            .ends_with(&format!(" of {total} characters shown]")),
        "{}",
        &capped.printed[capped.printed.len() - 200..]
    );
    // What is kept is a prefix of what was printed.
    let body = capped
        .printed
        .split("\n… [output truncated")
        .next()
        .unwrap_or("");
    assert!(printed.starts_with(body));
}

#[test]
fn a_worker_cut_output_keeps_the_full_total_in_its_new_marker() {
    let limits = Limits::default();
    let printed = dense_lines(4_000);
    let kept: String = printed.chars().take(limits.max_output_chars).collect();
    let worker_cut = format!(
        "{kept}{}",
        output_marker(kept.chars().count(), 1_000_000, &limits)
    );
    let mut capped = outcome(worker_cut, Value::Null);
    capped.printed_truncated = true;
    cap_tokens(&mut capped, &limits, &count);
    assert!(count(&capped.printed) <= 6_000);
    assert_eq!(capped.printed.matches("[output truncated").count(), 1);
    assert!(
        capped.printed.ends_with(" of 1000000 characters shown]"),
        "{}",
        &capped.printed[capped.printed.len() - 120..]
    );
}

#[test]
fn prose_within_the_token_limit_is_not_cut() {
    // About 4.5 characters per token: 24,000 characters are ~5,300 tokens.
    let limits = Limits::default();
    let prose =
        "The client portfolio grew steadily over the quarter, driven by equities. ".repeat(330);
    assert!(count(&prose) < 6_000);
    let mut capped = outcome(prose.clone(), Value::Null);
    cap_tokens(&mut capped, &limits, &count);
    assert_eq!(capped.printed, prose);
    assert!(!capped.printed_truncated);
}

#[test]
fn large_results_are_shaped_to_the_token_limit() {
    let limits = Limits::default();
    let rows: Vec<Value> = (0..2_000)
        .map(|i| json!({"id": format!("c-{i}"), "name": format!("Client {i}"), "aum": i * 1_234}))
        .collect();
    let mut capped = outcome(String::new(), json!({"rows": rows, "count": 2_000}));
    cap_tokens(&mut capped, &limits, &count);
    let json = serde_json::to_string(&capped.result).unwrap_or_default();
    let tokens = count(&json);
    assert!(tokens <= 6_000, "{tokens} tokens");
    assert!(tokens >= 3_000, "cut far more than needed: {tokens} tokens");
    assert!(capped.result_truncated);
    assert_eq!(capped.result["count"], json!(2_000));
    assert_eq!(capped.result["rows"][0]["id"], json!("c-0"));
    assert!(
        capped.result["…"]
            .as_str()
            .is_some_and(|note| note.contains("result size limit of 6000 tokens")),
        "{}",
        capped.result["…"]
    );
}

#[test]
fn huge_strings_and_lists_fit_too() {
    let limits = Limits {
        max_result_tokens: 500,
        max_output_tokens: 300,
        ..Limits::default()
    };
    let mut capped = outcome(
        "1 2 3 4 5 6 7 8 9 ".repeat(2_000),
        json!(["9".repeat(20_000), (0..5_000).collect::<Vec<u32>>()]),
    );
    cap_tokens(&mut capped, &limits, &count);
    assert!(count(&capped.printed) <= 300, "{}", count(&capped.printed));
    assert!(
        capped
            .printed
            .contains("printed output limit of 300 tokens")
    );
    let json = serde_json::to_string(&capped.result).unwrap_or_default();
    assert!(count(&json) <= 500, "{}", count(&json));
    assert!(json.contains("result size limit of 500 tokens"), "{json}");
}
