//! Token counting for page budgets.
//!
//! Budgets are in o200k_base tokens (the encoding of current OpenAI models; its counts agree
//! exactly across the Rust, Python and JavaScript implementations, so anyone can check them).
//! The ranks are compiled in as compact read-only tables (`codemode-o200k`), so counting needs
//! no network or files and builds nothing at run time.

use std::fmt;

/// Counts the tokens of a text; swap in another tokenizer with
/// [`PythonCatalogue::with_token_counter`](super::PythonCatalogue::with_token_counter).
pub trait TokenCounter: Send + Sync {
    /// The number of tokens `text` encodes to.
    fn count(&self, text: &str) -> usize;
}

/// The o200k_base tokenizer (no special tokens).
#[derive(Debug, Clone, Copy, Default)]
pub struct O200k;

impl TokenCounter for O200k {
    fn count(&self, text: &str) -> usize {
        codemode_o200k::count(text)
    }
}

impl fmt::Debug for dyn TokenCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCounter")
    }
}
