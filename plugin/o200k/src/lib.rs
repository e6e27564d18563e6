//! Exact o200k_base token counts (the encoding of current OpenAI models) from compact tables
//! compiled into the binary, for the page budgets of the catalogue and the output caps of the
//! sandbox.
//!
//! `tiktoken-rs` builds its encoder on first use: hash maps from every one of the 200,000
//! tokens to its rank and back, a sorted copy, and 128 clones of the pre-tokenizer regex, about
//! 40 MB of heap that stays resident for the life of the process. Counting needs none of that:
//! this crate's build script writes every token's bytes in rank order, their offsets and an
//! open-addressing table from bytes to rank (about 4 MB together) into the binary's read-only
//! data, so nothing is built at run time and only the pages a count touches are resident. The
//! counts equal `tiktoken-rs`'s `count_ordinary` for every text (the tests compare them).
//!
//! It may depend only on the regex crate: no I/O, no allocator tricks, no unsafe code, and it
//! builds for wasm32.

use std::{cmp::Reverse, collections::BinaryHeap, sync::LazyLock};

use fancy_regex::Regex;

include!("table_hash.rs");

/// Every ordinary token's bytes, concatenated in rank order.
static TOKEN_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_bytes.bin"));
/// Where each rank's bytes start in [`TOKEN_BYTES`] (little-endian `u32`), plus the end.
static TOKEN_OFFSETS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_offsets.bin"));
/// The open-addressing table (linear probing) of little-endian `u32`s: rank + 1, or 0 for an
/// empty slot, placed by [`table_hash`] of the token's bytes.
static RANK_SLOTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_slots.bin"));

/// o200k_base's pre-tokenizer: text is split into pieces by this pattern, then each piece is
/// merged into tokens by byte-pair ranks.
const PIECE_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+(?!\S)",
    "|",
    r"\s+",
);

/// Pieces at least this long are merged with a heap instead of a linear scan per merge.
const LONG_PIECE: usize = 256;

/// No rank: the bytes are not a token.
const NOT_A_TOKEN: u32 = u32::MAX;

/// The compiled pre-tokenizer, built on first use (`None` if it failed to compile, which the
/// tests rule out).
static PIECES: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(PIECE_PATTERN).ok());

/// The number of o200k_base tokens `text` encodes to, without special tokens (equal to
/// `tiktoken-rs`'s `count_ordinary`).
pub fn count(text: &str) -> usize {
    let Some(pieces) = PIECES.as_ref() else {
        // Unreachable in practice; a byte count is an upper bound of the token count.
        return text.len();
    };
    let mut tokens = 0;
    let mut counted_to = 0;
    for piece in pieces.find_iter(text) {
        match piece {
            Ok(piece) => {
                tokens += piece_tokens(piece.as_str().as_bytes());
                counted_to = piece.end();
            }
            Err(_) => {
                // The regex gave up (backtracking limit): count the rest as one token per byte,
                // an upper bound, rather than fail.
                return tokens + text.len().saturating_sub(counted_to);
            }
        }
    }
    tokens
}

/// The tokens one pre-tokenized piece merges into.
fn piece_tokens(piece: &[u8]) -> usize {
    match piece.len() {
        // Every single byte is a token.
        0 | 1 => piece.len(),
        _ if rank(piece) != NOT_A_TOKEN => 1,
        len if len < LONG_PIECE => merge_short(piece),
        _ => merge_long(piece),
    }
}

/// The rank of `bytes` as one token, or [`NOT_A_TOKEN`].
fn rank(bytes: &[u8]) -> u32 {
    let mask = RANK_SLOTS.len() / 4 - 1;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "only the hash's low bits index the table"
    )]
    let mut slot = table_hash(bytes) as usize & mask;
    loop {
        let entry = read_u32(RANK_SLOTS, slot);
        if entry == 0 {
            return NOT_A_TOKEN;
        }
        let candidate = entry - 1;
        if token_bytes(candidate) == bytes {
            return candidate;
        }
        slot = (slot + 1) & mask;
    }
}

/// The bytes of the token with rank `rank` (empty for a rank beyond the table).
fn token_bytes(rank: u32) -> &'static [u8] {
    let index = rank as usize;
    let start = read_u32(TOKEN_OFFSETS, index) as usize;
    let end = read_u32(TOKEN_OFFSETS, index + 1) as usize;
    TOKEN_BYTES.get(start..end).unwrap_or_default()
}

/// The `index`th little-endian `u32` of `table` (0 beyond its end).
fn read_u32(table: &[u8], index: usize) -> u32 {
    table
        .get(index * 4..index * 4 + 4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Byte-pair merging of a short piece: start from single bytes and repeatedly join the adjacent
/// pair whose concatenation has the lowest rank (the leftmost on a tie) until no adjacent pair is
/// a token; the parts left are the tokens.
fn merge_short(piece: &[u8]) -> usize {
    // `starts[i]` is where part `i` begins; the last entry is the piece's end.
    let mut starts: Vec<usize> = (0..=piece.len()).collect();
    // `pairs[i]` is the rank of parts `i` and `i + 1` joined.
    let mut pairs: Vec<u32> = (0..piece.len() - 1)
        .map(|at| rank(&piece[at..at + 2]))
        .collect();
    loop {
        let mut best = (NOT_A_TOKEN, 0);
        for (at, &pair) in pairs.iter().enumerate() {
            if pair < best.0 {
                best = (pair, at);
            }
        }
        let (best_rank, at) = best;
        if best_rank == NOT_A_TOKEN {
            break;
        }
        starts.remove(at + 1);
        pairs.remove(at);
        if at < pairs.len() {
            pairs[at] = rank(&piece[starts[at]..starts[at + 2]]);
        }
        if at > 0 {
            pairs[at - 1] = rank(&piece[starts[at - 1]..starts[at + 1]]);
        }
    }
    starts.len() - 1
}

/// The same merging as [`merge_short`] for a long piece, with the candidate pairs in a min-heap
/// ordered by (rank, position) so that each merge costs a logarithm instead of a scan. Parts are
/// a linked list over their start offsets; a heap entry whose pair has changed since it was
/// pushed is skipped when it comes up.
fn merge_long(piece: &[u8]) -> usize {
    let len = piece.len();
    // For the part starting at `i`: where the next part starts (`len` for none), where the
    // previous one starts (`usize::MAX` for none), and the rank of it joined with the next.
    let mut next: Vec<usize> = (1..=len).collect();
    let mut previous: Vec<usize> = (0..len).map(|at| at.wrapping_sub(1)).collect();
    let mut pair_rank = vec![NOT_A_TOKEN; len];
    let mut alive = vec![true; len];
    let mut heap = BinaryHeap::with_capacity(len);
    for at in 0..len - 1 {
        pair_rank[at] = rank(&piece[at..at + 2]);
        if pair_rank[at] != NOT_A_TOKEN {
            heap.push(Reverse((pair_rank[at], at)));
        }
    }
    let mut parts = len;
    while let Some(Reverse((pair, at))) = heap.pop() {
        if !alive[at] || pair_rank[at] != pair {
            continue;
        }
        let right = next[at];
        alive[right] = false;
        next[at] = next[right];
        if next[at] < len {
            previous[next[at]] = at;
        }
        parts -= 1;
        pair_rank[at] = if next[at] < len {
            rank(&piece[at..next[next[at]]])
        } else {
            NOT_A_TOKEN
        };
        if pair_rank[at] != NOT_A_TOKEN {
            heap.push(Reverse((pair_rank[at], at)));
        }
        let before = previous[at];
        if before < len {
            pair_rank[before] = rank(&piece[before..next[at]]);
            if pair_rank[before] != NOT_A_TOKEN {
                heap.push(Reverse((pair_rank[before], before)));
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests;
