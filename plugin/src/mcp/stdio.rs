//! MCP's stdio framing (one JSON-RPC message per line) with the error replies JSON-RPC asks
//! for, which rmcp's own stdio transport leaves out (it drops unparsable lines silently):
//!
//! - a line that is not JSON gets `-32700 Parse error` (id `null`) and a warning in the log;
//! - JSON that is not a JSON-RPC message gets `-32600 Invalid Request`, with the line's `id`
//!   when it has one; a malformed *notification* (no `id`) is only logged, since nothing may
//!   answer a notification.
//!
//! Empty lines and a UTF-8 byte-order mark are skipped. Our replies are valid JSON-RPC
//! responses, which a peer never answers, so they cannot start an error storm.

use std::sync::Arc;

use rmcp::{
    ErrorData, RoleServer,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader},
    sync::Mutex,
};

/// A byte-order mark some Windows tools put before the first line.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest part of a bad line quoted in the log.
const QUOTE: usize = 120;

/// Line-delimited JSON-RPC over a reader and a writer (stdin/stdout in production).
pub(crate) struct LineTransport<R, W> {
    reader: BufReader<R>,
    /// The line being read; kept across cancelled reads (rmcp polls `receive` in a select).
    line: Vec<u8>,
    writer: Arc<Mutex<W>>,
}

impl<R, W> LineTransport<R, W> {
    pub(crate) fn new(reader: R, writer: W) -> Self
    where
        R: AsyncRead,
    {
        Self {
            reader: BufReader::new(reader),
            line: Vec::new(),
            writer: Arc::new(Mutex::new(writer)),
        }
    }
}

/// Writes one message line and flushes.
async fn write_line<W: AsyncWrite + Unpin>(
    writer: &Mutex<W>,
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    let mut writer = writer.lock().await;
    writer.write_all(&bytes).await?;
    writer.flush().await
}

/// What to do with one complete line.
enum Parsed {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    Skip,
    Reply(Value),
}

fn parse(line: &[u8]) -> Parsed {
    let line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Parsed::Skip;
    }
    let error = match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
        Ok(message) => return Parsed::Message(Box::new(message)),
        Err(error) => error,
    };
    let quoted = String::from_utf8_lossy(&line[..line.len().min(QUOTE)]).into_owned();
    match serde_json::from_slice::<Value>(line) {
        Err(parse_error) => {
            tracing::warn!(%parse_error, line = %quoted, "MCP stdio: a line that is not JSON; replied -32700");
            let error = ErrorData::parse_error(format!("Parse error: {parse_error}"), None);
            Parsed::Reply(json!({"jsonrpc": "2.0", "id": null, "error": error}))
        }
        Ok(value) => {
            if let Some(id) = value
                .get("id")
                .filter(|id| id.is_string() || id.is_number())
            {
                tracing::warn!(%error, line = %quoted, "MCP stdio: not a valid JSON-RPC request; replied -32600");
                let error = ErrorData::invalid_request(format!("Invalid Request: {error}"), None);
                Parsed::Reply(json!({"jsonrpc": "2.0", "id": id, "error": error}))
            } else {
                tracing::debug!(%error, line = %quoted, "MCP stdio: ignored a malformed message without id");
                Parsed::Skip
            }
        }
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = Arc::clone(&self.writer);
        async move { write_line(&writer, &item).await }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            // Cancel safe: a cancelled read leaves its bytes in `self.line` for the next call.
            match self.reader.read_until(b'\n', &mut self.line).await {
                Ok(0) if self.line.is_empty() => return None,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "MCP stdio: reading stdin failed");
                    return None;
                }
            }
            let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            let parsed = parse(line.strip_suffix(b"\r").unwrap_or(line));
            self.line.clear();
            match parsed {
                Parsed::Message(message) => return Some(*message),
                Parsed::Skip => {}
                Parsed::Reply(reply) => {
                    // Off the receive path, so the reply cannot be cut by a cancelled receive.
                    let writer = Arc::clone(&self.writer);
                    tokio::spawn(async move {
                        if let Err(error) = write_line(&writer, &reply).await {
                            tracing::debug!(%error, "MCP stdio: error reply not written");
                        }
                    });
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(line: &str) -> Value {
        match parse(line.as_bytes()) {
            Parsed::Reply(value) => value,
            Parsed::Message(_) => panic!("{line:?} parsed as a message"),
            Parsed::Skip => panic!("{line:?} skipped"),
        }
    }

    #[test]
    fn a_line_that_is_not_json_is_a_parse_error_with_null_id() {
        let value = reply("this is not json");
        assert_eq!(value["error"]["code"], -32700);
        assert_eq!(value["id"], Value::Null);
    }

    #[test]
    fn json_that_is_no_request_is_invalid_request_with_its_id() {
        let value = reply(r#"{"jsonrpc":"2.0","id":7,"bogus":true}"#);
        assert_eq!(value["error"]["code"], -32600);
        assert_eq!(value["id"], 7);
    }

    #[test]
    fn blank_lines_and_malformed_notifications_are_skipped_and_a_bom_is_ignored() {
        assert!(matches!(parse(b"   "), Parsed::Skip));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","bogus":1}"#),
            Parsed::Skip
        ));
        let ping = b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
        assert!(matches!(parse(ping), Parsed::Message(_)));
    }
}
