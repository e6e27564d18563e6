//! Command-line conventions of the `codemode` binary: distinct exit codes, a `CODEMODE_*`
//! variable for every flag, help grouped by headings with examples, `-q`/`-v` and
//! `--log-format json`, no colour codes in piped stderr, shell completions, and the default
//! config file under `$XDG_CONFIG_HOME`.
#![expect(clippy::expect_used, reason = "tests fail loudly and early")]

use std::{
    io::Write as _,
    process::{Command, Output, Stdio},
};

fn codemode(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codemode"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("codemode-no-config-here"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("codemode starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("codemode exits")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn exit_codes_tell_usage_bus_and_snippet_failures_apart() {
    let ok = codemode(&["-q", "exec", "--mock-bus", "-"], "result = 1", &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let failed = codemode(&["-q", "exec", "--mock-bus", "-"], "x = {}['a']", &[]);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "snippet failed: {}",
        stderr(&failed)
    );
    let missing = codemode(&["exec", "--mock-bus", "/no/such/snippet.py"], "", &[]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "usage: {}",
        stderr(&missing)
    );
    assert!(stderr(&missing).contains("error: reading the snippet /no/such/snippet.py"));
    let bad_flag = codemode(&["exec", "--no-such-flag"], "", &[]);
    assert_eq!(bad_flag.status.code(), Some(2), "{}", stderr(&bad_flag));
    let bad_value = codemode(
        &["exec", "--mock-bus", "-"],
        "result = 1",
        &[("CODEMODE_TIMEOUT_SECONDS", "0")],
    );
    assert_eq!(bad_value.status.code(), Some(2), "{}", stderr(&bad_value));
    let unreachable = codemode(
        &["-q", "exec", "--bus", "ws://127.0.0.1:9/gw", "-"],
        "result = 1",
        &[],
    );
    assert_eq!(
        unreachable.status.code(),
        Some(3),
        "bus unreachable: {}",
        stderr(&unreachable)
    );
}

#[test]
fn every_flag_of_serve_and_exec_has_a_codemode_variable_and_help_has_headings() {
    for subcommand in ["serve", "exec"] {
        let help = codemode(&[subcommand, "--help"], "", &[]);
        let text = String::from_utf8_lossy(&help.stdout).into_owned();
        for heading in ["Bus:", "Login:", "Limits:", "Logging:"] {
            assert!(
                text.contains(&format!("\n{heading}\n")),
                "{subcommand} --help lacks {heading}\n{text}"
            );
        }
        // Each flag block runs from its `--flag` line to the next blank-line-separated flag.
        let mut flag: Option<String> = None;
        let mut has_env = false;
        let mut missing = Vec::new();
        let mut seen = 0;
        for line in text.lines().chain(["  --end"]) {
            let trimmed = line.trim_start();
            let starts_flag = trimmed.starts_with("--")
                || (trimmed.starts_with('-') && trimmed.get(2..4) == Some(", "));
            if starts_flag && line.starts_with("  ") {
                if let Some(previous) = flag.take()
                    && !has_env
                    && !["--help", "--version"]
                        .iter()
                        .any(|exempt| previous.contains(exempt))
                {
                    missing.push(previous);
                }
                flag = Some(trimmed.to_owned());
                seen += 1;
                has_env = trimmed.contains("[env: CODEMODE_")
                    || trimmed.contains("-v, --verbose")
                    || trimmed.contains("-q, --quiet");
            } else if line.contains("[env: CODEMODE_") {
                has_env = true;
            }
        }
        assert!(
            seen >= 20,
            "{subcommand}: only {seen} flags found in --help\n{text}"
        );
        assert!(
            missing.is_empty(),
            "{subcommand}: flags without a CODEMODE_* variable: {missing:?}"
        );
    }
    let top = codemode(&["--help"], "", &[]);
    let text = String::from_utf8_lossy(&top.stdout).into_owned();
    assert!(
        text.contains("Examples:") && text.contains("Exit codes:"),
        "{text}"
    );
}

#[test]
fn logs_are_plain_or_json_lines_and_quiet_silences_info() {
    let text = codemode(&["exec", "--mock-bus", "-"], "result = 1", &[]);
    let log = stderr(&text);
    assert!(log.contains("INFO"), "info by default: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI escape codes in piped stderr: {log:?}"
    );
    let json = codemode(
        &["--log-format", "json", "exec", "--mock-bus", "-"],
        "result = 1",
        &[],
    );
    let log = stderr(&json);
    let lines: Vec<&str> = log.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        assert!(value["level"].is_string(), "{line}");
    }
    let quiet = codemode(&["-q", "exec", "--mock-bus", "-"], "result = 1", &[]);
    assert!(!stderr(&quiet).contains("INFO"), "{}", stderr(&quiet));
    let verbose = codemode(&["-v", "exec", "--mock-bus", "-"], "result = 1", &[]);
    assert!(stderr(&verbose).contains("DEBUG"), "-v shows debug");
}

#[test]
fn completions_print_a_script_for_the_shell() {
    for (shell, marker) in [
        ("bash", "_codemode()"),
        ("zsh", "#compdef codemode"),
        ("fish", "complete -c codemode"),
    ] {
        let output = codemode(&["completions", shell], "", &[]);
        assert!(output.status.success());
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(script.contains("mock-bus"), "{shell} completes flags");
    }
}

#[test]
fn the_config_file_under_xdg_config_home_is_read_without_config() {
    let home = std::env::temp_dir().join(format!("codemode-xdg-{}", std::process::id()));
    std::fs::create_dir_all(home.join("codemode")).expect("config dir");
    std::fs::write(home.join("codemode/codemode.toml"), "no_such_key = 1\n").expect("config");
    let home_text = home.to_str().expect("utf-8 path");
    let output = codemode(
        &["exec", "--mock-bus", "-"],
        "result = 1",
        &[("XDG_CONFIG_HOME", home_text)],
    );
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("codemode/codemode.toml"),
        "names the file: {}",
        stderr(&output)
    );
}

#[test]
fn the_default_config_files_policy_applies_without_config() {
    let home = std::env::temp_dir().join(format!("codemode-xdg-policy-{}", std::process::id()));
    std::fs::create_dir_all(home.join("codemode")).expect("config dir");
    std::fs::write(
        home.join("codemode/codemode.toml"),
        "[policy.deny]\napps = [\"CRM\"]\n",
    )
    .expect("config");
    let home_text = home.to_str().expect("utf-8 path");
    let with_policy = codemode(
        &["catalogue", "--mock-bus", "list"],
        "",
        &[("XDG_CONFIG_HOME", home_text)],
    );
    let _ = std::fs::remove_dir_all(&home);
    let without = codemode(&["catalogue", "--mock-bus", "list"], "", &[]);
    assert!(with_policy.status.success(), "{}", stderr(&with_policy));
    let listed =
        |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(listed(&without).contains("crm"), "{}", listed(&without));
    assert!(
        !listed(&with_policy).contains("crm."),
        "the [policy] of the default file hides CRM: {}",
        listed(&with_policy)
    );
}

#[test]
fn help_shows_the_defaults_the_settings_use() {
    let output = codemode(&["serve", "--help"], "", &[]);
    let help = String::from_utf8_lossy(&output.stdout);
    for shown in [
        "[default: 30]",
        "[default: 256]",
        "[default: 600]",
        "[default: stdio]",
        "[default: ioconnect]",
    ] {
        assert!(help.contains(shown), "{shown}: {help}");
    }
}

#[test]
fn every_sample_client_config_starts_codemode_with_flags_it_accepts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/mcp");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("samples/mcp") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("sample");
        let config: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let servers = config
            .get("mcpServers")
            .or_else(|| config.get("servers"))
            .and_then(serde_json::Value::as_object)
            .unwrap_or_else(|| panic!("{}: no mcpServers/servers", path.display()));
        for server in servers.values() {
            if let Some(url) = server["url"].as_str() {
                assert!(url.ends_with("/mcp"), "{}: {url}", path.display());
                let auth = server["headers"]["Authorization"]
                    .as_str()
                    .unwrap_or_default();
                assert!(auth.starts_with("Bearer "), "{}: {auth}", path.display());
            } else {
                assert_eq!(server["command"], "codemode", "{}", path.display());
                let mut args: Vec<&str> = server["args"]
                    .as_array()
                    .expect("args")
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect();
                args.push("--help");
                let envs: Vec<(String, String)> = server["env"]
                    .as_object()
                    .map(|env| {
                        env.iter()
                            .map(|(key, value)| {
                                (key.clone(), value.as_str().unwrap_or_default().to_owned())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for (key, _) in &envs {
                    assert!(
                        key.starts_with("CODEMODE_") || key == "RUST_LOG",
                        "{}: {key}",
                        path.display()
                    );
                }
                let env: Vec<(&str, &str)> =
                    envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let output = codemode(&args, "", &env);
                assert!(
                    output.status.success(),
                    "{}: {}",
                    path.display(),
                    stderr(&output)
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} sample servers");
}
