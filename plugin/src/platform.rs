//! Platform conventions of the executable, kept apart from the CLI's flags: the default login
//! name, the default config file's place, and the console/session events that end the process.
//!
//! - User: `$USER` (Unix), `%USERNAME%` (Windows), else the account name the system reports.
//! - Config: `%APPDATA%\codemode\codemode.toml` on Windows; `$XDG_CONFIG_HOME/codemode/codemode.toml`
//!   (default `~/.config/codemode/codemode.toml`) elsewhere. Read only when it exists and no
//!   `--config` is given.
//! - Shutdown: Ctrl-C and SIGTERM on Unix; Ctrl-C, Ctrl-Break, console close, logoff and system
//!   shutdown on Windows (Windows ends a process a few seconds after a close event, so the
//!   handler must not linger).

use std::path::PathBuf;

/// The login name to use when none is configured.
pub(crate) fn default_user() -> Option<String> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    from_env("USER")
        .or_else(|| from_env("USERNAME"))
        .or_else(|| whoami::username().ok())
}

/// Where the config file is looked for when `--config` is not given (whether or not it exists).
pub(crate) fn default_config_path() -> Option<PathBuf> {
    config_path_from(|name| std::env::var_os(name).filter(|value| !value.is_empty()))
}

/// [`default_config_path`] with the environment as a function (testable without touching the
/// process's environment).
fn config_path_from(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let base = if cfg!(windows) {
        PathBuf::from(env("APPDATA")?)
    } else if let Some(xdg) = env("XDG_CONFIG_HOME") {
        PathBuf::from(xdg)
    } else {
        PathBuf::from(env("HOME")?).join(".config")
    };
    Some(base.join("codemode").join("codemode.toml"))
}

/// The default config file, if it exists.
pub(crate) fn default_config_file() -> Option<PathBuf> {
    default_config_path().filter(|path| path.is_file())
}

/// Windows console and session events that end the process.
#[cfg(windows)]
pub(crate) struct WindowsSignals {
    ctrl_c: Option<tokio::signal::windows::CtrlC>,
    ctrl_break: Option<tokio::signal::windows::CtrlBreak>,
    close: Option<tokio::signal::windows::CtrlClose>,
    logoff: Option<tokio::signal::windows::CtrlLogoff>,
    shutdown: Option<tokio::signal::windows::CtrlShutdown>,
}

#[cfg(windows)]
impl WindowsSignals {
    /// Starts listening; an event that cannot be listened for is logged and left out.
    pub(crate) fn listen() -> Self {
        use tokio::signal::windows;
        fn keep<T>(listener: std::io::Result<T>, name: &str) -> Option<T> {
            listener
                .map_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
                .ok()
        }
        Self {
            ctrl_c: keep(windows::ctrl_c(), "Ctrl-C"),
            ctrl_break: keep(windows::ctrl_break(), "Ctrl-Break"),
            close: keep(windows::ctrl_close(), "console close"),
            logoff: keep(windows::ctrl_logoff(), "logoff"),
            shutdown: keep(windows::ctrl_shutdown(), "system shutdown"),
        }
    }

    /// Waits for any of the events and names the one that came.
    pub(crate) async fn recv(&mut self) -> &'static str {
        macro_rules! next {
            ($listener:expr) => {{
                let listener = $listener;
                async move {
                    match listener {
                        Some(listener) => {
                            if listener.recv().await.is_none() {
                                std::future::pending::<()>().await;
                            }
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            }};
        }
        tokio::select! {
            () = next!(self.ctrl_c.as_mut()) => "Ctrl-C",
            () = next!(self.ctrl_break.as_mut()) => "Ctrl-Break",
            () = next!(self.close.as_mut()) => "console close",
            () = next!(self.logoff.as_mut()) => "logoff",
            () = next!(self.shutdown.as_mut()) => "system shutdown",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, ffi::OsString, path::PathBuf};

    use super::config_path_from;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), OsString::from(value)))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[cfg(not(windows))]
    #[test]
    fn the_config_file_follows_xdg_and_falls_back_to_dot_config() {
        assert_eq!(
            config_path_from(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/codemode/codemode.toml"))
        );
        assert_eq!(
            config_path_from(env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/codemode/codemode.toml"))
        );
        assert_eq!(config_path_from(env(&[])), None);
    }

    #[cfg(windows)]
    #[test]
    fn the_config_file_is_under_appdata() {
        assert_eq!(
            config_path_from(env(&[("APPDATA", r"C:\Users\ann\AppData\Roaming")])),
            Some(PathBuf::from(
                r"C:\Users\ann\AppData\Roaming\codemode\codemode.toml"
            ))
        );
        assert_eq!(config_path_from(env(&[("HOME", "/h")])), None);
    }
}
