//! The exit codes of `codemode`, documented in `--help` and the README:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the snippet failed (`codemode exec`) |
//! | 2 | usage: a bad flag, value or config file |
//! | 3 | the bus is unreachable, refused us, or authentication failed |
//! | 4 | internal error (anything else) |

use std::process::ExitCode;

use codemode_adapters::BusError;

/// The snippet ran and failed.
pub(crate) const SNIPPET_FAILED: u8 = 1;
/// Bad command line, value or config file (clap uses 2 for its own errors too).
pub(crate) const USAGE: u8 = 2;
/// Could not reach or log in to the bus.
pub(crate) const BUS: u8 = 3;
/// Anything else.
pub(crate) const INTERNAL: u8 = 4;

/// A mistake in what the user asked for (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct UsageError(pub(crate) String);

/// A usage error as an `anyhow::Error`.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// The exit code for a failed command.
pub(crate) fn code_for(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if let Some(bus) = cause.downcast_ref::<BusError>() {
            match bus {
                BusError::Connect { .. }
                | BusError::Authentication { .. }
                | BusError::Disconnected { .. }
                | BusError::Refused { .. } => return BUS,
                BusError::Config { .. } => return USAGE,
                _ => {}
            }
        }
    }
    INTERNAL
}

/// Prints `error` on stderr and returns its exit code.
#[expect(
    clippy::print_stderr,
    reason = "the final error is for the person who ran the command, whatever the log settings"
)]
pub(crate) fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::from(code_for(error))
}
