//! Prompts: worked examples a user can pick in the client to start a task the Code Mode way
//! (one snippet that does every call and filters on the device).
//!
//! The example snippets are the ones in `samples/examples/` (run against the sample apps by
//! the CLI tests), so what a prompt shows is code that works. Each prompt takes an optional
//! `task` (the user's own request) and `namespace` (where to look first; completes); `call`
//! takes a required `function` (completes to qualified names).

use std::fmt::Write as _;

use rmcp::{
    ErrorData,
    model::{
        GetPromptResult, JsonObject, ListPromptsResult, Prompt, PromptArgument, PromptMessage, Role,
    },
};

/// One worked example.
struct Example {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    /// What the pattern is and when to use it.
    lesson: &'static str,
    snippet: &'static str,
}

const EXAMPLES: [Example; 4] = [
    Example {
        name: "seed_lookup",
        title: "Look one thing up",
        description: "One bus call, only the answer comes back (e.g. a client's adviser).",
        lesson: "Find the function with list_python_definitions (query=…), read its stub with \
                 get_python_definitions, then run one snippet that calls it and assigns only \
                 the field asked for to `result`, not the whole record.",
        snippet: include_str!("../../../samples/examples/amelia_adviser.py"),
    },
    Example {
        name: "rank_then_raise",
        title: "Rank, then act on the best",
        description: "Filter and rank records on the device, then raise an intent for the top one.",
        lesson: "Fetch the candidates, sort and cut them in Python, then raise the intent \
                 (intents.<name>(context)) for the best match, all in one snippet; return a short \
                 summary, not the list.",
        snippet: include_str!("../../../samples/examples/top_clients_then_intent.py"),
    },
    Example {
        name: "fan_out",
        title: "Fan out and aggregate",
        description: "Many calls at once with gather(), aggregated on the device.",
        lesson: "Start the per-item calls together with gather(*[...]) rather than one by one, \
                 aggregate in Python (collections.Counter, sorted, sum) and return the top few.",
        snippet: include_str!("../../../samples/examples/fan_out_holdings.py"),
    },
    Example {
        name: "error_handling",
        title: "Handle bus errors",
        description: "Bus failures are Python exceptions: catch them per item and carry on.",
        lesson: "Wrap each call that may fail in try/except (InvocationFailedError and the other \
                 bus errors the stubs name), record what failed and why, and keep going; report \
                 the failures in `result`.",
        snippet: include_str!("../../../samples/examples/handle_errors.py"),
    },
];

/// The prompt that writes a snippet around one function.
const CALL_PROMPT: &str = "call";

fn optional(name: &str, description: &str) -> PromptArgument {
    PromptArgument::new(name)
        .with_description(description)
        .with_required(false)
}

/// `prompts/list`.
pub(crate) fn list() -> ListPromptsResult {
    let mut prompts: Vec<Prompt> = EXAMPLES
        .iter()
        .map(|example| {
            Prompt::new(
                example.name,
                Some(example.description),
                Some(vec![
                    optional("task", "What you want done, in your words."),
                    optional("namespace", "Where to look first, e.g. crm (completes)."),
                ]),
            )
            .with_title(example.title)
        })
        .collect();
    prompts.push(
        Prompt::new(
            CALL_PROMPT,
            Some("Write one snippet around a function you name: read its stub, call it, return what matters."),
            Some(vec![
                PromptArgument::new("function")
                    .with_description("Qualified name, e.g. crm.get_clients (completes).")
                    .with_required(true),
                optional("task", "What you want done with it."),
            ]),
        )
        .with_title("Call one function"),
    );
    ListPromptsResult::with_all_items(prompts)
}

fn argument<'a>(arguments: Option<&'a JsonObject>, name: &str) -> Option<&'a str> {
    arguments
        .and_then(|arguments| arguments.get(name))
        .and_then(|value| value.as_str())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// `prompts/get`; an unknown prompt or a missing required argument is `-32602`.
pub(crate) fn get(
    name: &str,
    arguments: Option<&JsonObject>,
) -> Result<GetPromptResult, ErrorData> {
    let task = argument(arguments, "task");
    if name == CALL_PROMPT {
        let Some(function) = argument(arguments, "function") else {
            return Err(ErrorData::invalid_params(
                "the call prompt needs `function`, a qualified name such as crm.get_clients",
                None,
            ));
        };
        let mut text = format!(
            "Use {function} from the desktop apps. First call get_python_definitions with \
             names=[\"{function}\"] to read its signature and result type. Then run one \
             execute_python_code snippet that calls it, filters on the device, and assigns only \
             what matters to `result`."
        );
        if let Some(task) = task {
            let _ = write!(text, "\n\nTask: {task}");
        }
        return Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(format!("Call {function}")),
        );
    }
    let Some(example) = EXAMPLES.iter().find(|example| example.name == name) else {
        let known: Vec<&str> = EXAMPLES
            .iter()
            .map(|example| example.name)
            .chain([CALL_PROMPT])
            .collect();
        return Err(ErrorData::invalid_params(
            format!("no prompt {name:?}; prompts: {}", known.join(", ")),
            None,
        ));
    };
    let mut text = format!(
        "{}\n\nWorked example (on the sample CRM apps; find the functions of this desktop with \
         list_python_definitions first):\n\n```python\n{}```",
        example.lesson, example.snippet
    );
    if let Some(namespace) = argument(arguments, "namespace") {
        let _ = write!(
            text,
            "\n\nStart with list_python_definitions(namespace=\"{namespace}\")."
        );
    }
    if let Some(task) = task {
        let _ = write!(text, "\n\nTask: {task}");
    }
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(example.description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_prompt_carries_its_sample_snippet_and_the_task() {
        for example in &EXAMPLES {
            let arguments = JsonObject::from_iter([("task".to_owned(), "do it".into())]);
            let prompt = get(example.name, Some(&arguments)).expect("known prompt");
            let text = serde_json::to_string(&prompt).expect("serialises");
            assert!(text.contains("result"), "{}: {text}", example.name);
            assert!(text.contains("Task: do it"), "{}: {text}", example.name);
        }
    }

    #[test]
    fn unknown_prompt_and_missing_function_are_invalid_params() {
        assert!(get("nope", None).is_err());
        assert!(get(CALL_PROMPT, None).is_err());
    }
}
