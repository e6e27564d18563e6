//! The io.Connect Desktop app definition in `samples/ioconnect/` passes io.Connect's own
//! published validator (`SchemaValidator` with `application.json` from `@interopio/schemas`),
//! and the validator does reject what io.Connect Desktop would reject (the earlier sample's
//! `"mode": "default"`), so a pass means something.

use std::process::Command;

use codemode_tests::{ensure_node_packages, repo_root};
use serde_json::Value;

/// Runs `tests/windows/validate-app-definition.js` on `file`: (valid, printed verdict).
fn validate(file: &std::path::Path) -> (bool, Value) {
    ensure_node_packages();
    let output = Command::new("node")
        .arg(repo_root().join("tests/windows/validate-app-definition.js"))
        .arg(file)
        .output()
        .expect("run node (is node installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdict: Value = stdout
        .lines()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| {
            panic!(
                "no verdict from the validator: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    (output.status.success(), verdict)
}

#[test]
fn the_sample_app_definition_passes_the_published_io_connect_validator() {
    let sample = repo_root().join("samples/ioconnect/codemode.json");
    let (valid, verdict) = validate(&sample);
    assert!(valid, "{verdict}");
    assert_eq!(verdict["isValid"], true, "{verdict}");

    let definition: Value =
        serde_json::from_str(&std::fs::read_to_string(&sample).expect("read the sample"))
            .expect("the sample is JSON");
    let app = &definition[0];
    assert_eq!(app["type"], "exe");
    assert_eq!(app["details"]["command"], "codemode.exe");
    assert_eq!(app["service"], true);
    assert_eq!(app["autoStart"], true);
    // The gateway URL and token arrive in _GD_STARTING_CONTEXT_ (the adapter reads it).
    assert_eq!(app["details"]["startingContextMode"], "environment");
}

#[test]
fn the_validator_rejects_a_window_mode_io_connect_does_not_have() {
    let sample = repo_root().join("samples/ioconnect/codemode.json");
    let mut definition: Value =
        serde_json::from_str(&std::fs::read_to_string(&sample).expect("read the sample"))
            .expect("the sample is JSON");
    definition[0]["details"]["mode"] = Value::from("default");
    let broken = std::env::temp_dir().join(format!("codemode-app-{}.json", std::process::id()));
    std::fs::write(&broken, definition.to_string()).expect("write the broken copy");
    let (valid, verdict) = validate(&broken);
    let _ = std::fs::remove_file(&broken);
    assert!(!valid, "{verdict}");
    assert!(verdict["errors"].to_string().contains("mode"), "{verdict}");
}
