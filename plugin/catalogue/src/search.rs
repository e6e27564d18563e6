//! BM25 search over the functions, updated in place as functions come and go.
//!
//! Documents are tokenized into lower-case ASCII-folded words (camelCase and snake_case split,
//! a trailing plural `s` dropped). Removal is lazy: a removed document's postings stay until a
//! compaction, but document frequencies, lengths and counts are exact at all times, so scores
//! after any sequence of updates equal those of a fresh build (and ties break by name).

use foldhash::HashMap;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;
/// Words ignored in documents and queries.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
    "or", "that", "the", "this", "to", "with",
];
/// Longest query read (bytes); the rest is ignored.
const MAX_QUERY_BYTES: usize = 1_000;
/// Most distinct query words used.
const MAX_QUERY_WORDS: usize = 32;
/// Longest token kept (longer words are cut).
const MAX_TOKEN: usize = 40;
/// Most tokens read from one document.
const MAX_DOC_TOKENS: usize = 2_000;

/// One document's bookkeeping.
#[derive(Debug, Clone)]
struct Doc {
    /// Distinct term ids with their frequencies.
    terms: Vec<(u32, u32)>,
    /// Number of tokens.
    len: u32,
}

/// One term: its live document frequency and its postings (including removed documents).
#[derive(Debug, Clone, Default)]
struct Term {
    /// Live documents containing it.
    df: u32,
    /// (document, term frequency), in insertion order.
    postings: Vec<(u32, u32)>,
}

/// An inverted index with BM25 scoring.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Term text → term id.
    ids: HashMap<String, u32>,
    /// Terms by id.
    terms: Vec<Term>,
    /// Live documents.
    docs: HashMap<u32, Doc>,
    /// Sum of live document lengths.
    total_len: u64,
    /// Postings that point at removed documents.
    dead_postings: usize,
    /// All postings, live and dead.
    all_postings: usize,
}

impl Index {
    /// Adds document `id` made of weighted texts (a weight repeats the text's words); ids must
    /// not be reused while postings may remain.
    pub(crate) fn add(&mut self, id: u32, pieces: &[(&str, u32)]) {
        let mut occurrences: Vec<(u32, u32)> = Vec::with_capacity(64);
        let mut len = 0u32;
        for &(text, weight) in pieces {
            for_each_token(text, |token| {
                if len as usize >= MAX_DOC_TOKENS {
                    return;
                }
                len += weight;
                let term = if let Some(term) = self.ids.get(token) {
                    *term
                } else {
                    let term = u32::try_from(self.terms.len()).unwrap_or(u32::MAX);
                    self.ids.insert(token.to_owned(), term);
                    self.terms.push(Term::default());
                    term
                };
                occurrences.push((term, weight));
            });
        }
        occurrences.sort_unstable_by_key(|(term, _)| *term);
        let mut counts: Vec<(u32, u32)> = Vec::with_capacity(occurrences.len());
        for (term, weight) in occurrences {
            match counts.last_mut() {
                Some(last) if last.0 == term => last.1 += weight,
                _ => counts.push((term, weight)),
            }
        }
        for &(term, tf) in &counts {
            if let Some(entry) = self.terms.get_mut(term as usize) {
                entry.df += 1;
                entry.postings.push((id, tf));
                self.all_postings += 1;
            }
        }
        self.total_len += u64::from(len);
        // Sized for every occurrence; kept for the document's life, so give back the rest.
        counts.shrink_to_fit();
        self.docs.insert(id, Doc { terms: counts, len });
    }

    /// Removes document `id`.
    pub(crate) fn remove(&mut self, id: u32) {
        let Some(doc) = self.docs.remove(&id) else {
            return;
        };
        for (term, _) in &doc.terms {
            if let Some(entry) = self.terms.get_mut(*term as usize) {
                entry.df = entry.df.saturating_sub(1);
            }
        }
        self.dead_postings += doc.terms.len();
        self.total_len = self.total_len.saturating_sub(u64::from(doc.len));
        if self.dead_postings > 1_024 && self.dead_postings * 2 > self.all_postings {
            self.compact();
        }
    }

    /// Drops postings of removed documents and terms no live document has (term ids are
    /// renumbered, so hostile churn cannot grow the dictionary without bound).
    fn compact(&mut self) {
        let mut remap: Vec<Option<u32>> = vec![None; self.terms.len()];
        let mut terms: Vec<Term> = Vec::new();
        for (old, term) in std::mem::take(&mut self.terms).into_iter().enumerate() {
            if term.df == 0 {
                continue;
            }
            if let Some(slot) = remap.get_mut(old) {
                *slot = u32::try_from(terms.len()).ok();
            }
            terms.push(term);
        }
        self.ids
            .retain(|_, id| match remap.get(*id as usize).copied().flatten() {
                Some(new) => {
                    *id = new;
                    true
                }
                None => false,
            });
        for doc in self.docs.values_mut() {
            for (term, _) in &mut doc.terms {
                *term = remap
                    .get(*term as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(u32::MAX);
            }
        }
        let docs = &self.docs;
        for term in &mut terms {
            term.postings.retain(|(id, _)| docs.contains_key(id));
        }
        self.terms = terms;
        self.all_postings = self.terms.iter().map(|t| t.postings.len()).sum();
        self.dead_postings = 0;
    }

    /// Documents matching `query`, best first (`score`, `id`); ties are left to the caller.
    /// Query words without an exact term match any term they prefix (at most 50 terms).
    pub(crate) fn search(&self, query: &str, keep: impl Fn(u32) -> bool) -> Vec<(f64, u32)> {
        let live = self.docs.len();
        if live == 0 {
            return Vec::new();
        }
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let (n, avgdl) = (live as f64, self.total_len as f64 / live as f64);
        let mut words: Vec<String> = Vec::new();
        let query = query
            .get(..floor_char_boundary(query, MAX_QUERY_BYTES))
            .unwrap_or("");
        for_each_token(query, |token| words.push(token.to_owned()));
        words.sort_unstable();
        words.dedup();
        words.truncate(MAX_QUERY_WORDS);
        let live_term = |term: &u32| self.terms.get(*term as usize).is_some_and(|t| t.df > 0);
        let mut scores: HashMap<u32, f64> = HashMap::default();
        for word in &words {
            let mut terms: Vec<u32> = Vec::new();
            if let Some(term) = self.ids.get(word.as_str()).filter(|t| live_term(t)) {
                terms.push(*term);
            } else if word.len() >= 3 {
                let mut prefixed: Vec<(&str, u32)> = self
                    .ids
                    .iter()
                    .filter(|(text, term)| live_term(term) && text.starts_with(word.as_str()))
                    .map(|(text, term)| (text.as_str(), *term))
                    .collect();
                prefixed.sort_unstable();
                prefixed.truncate(50);
                terms = prefixed.into_iter().map(|(_, term)| term).collect();
            }
            for term in terms {
                let Some(entry) = self.terms.get(term as usize) else {
                    continue;
                };
                let df = f64::from(entry.df);
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                for &(id, tf) in &entry.postings {
                    let Some(doc) = self.docs.get(&id) else {
                        continue;
                    };
                    if !keep(id) {
                        continue;
                    }
                    let tf = f64::from(tf);
                    let norm = K1 * (1.0 - B + B * f64::from(doc.len) / avgdl);
                    *scores.entry(id).or_insert(0.0) += idf * tf * (K1 + 1.0) / (tf + norm);
                }
            }
        }
        let mut hits: Vec<(f64, u32)> = scores.into_iter().map(|(id, s)| (s, id)).collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0));
        hits
    }
}

/// Calls `f` with each lower-case search token of `text` (camelCase split, a plural `s`
/// dropped, stop words skipped).
fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    let mut word = String::with_capacity(MAX_TOKEN * 2);
    let mut chars_in_word = 0usize;
    let mut prev: Option<char> = None;
    let mut flush = |word: &mut String, chars_in_word: &mut usize| {
        if !word.is_empty() {
            if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
                word.pop();
            }
            if !STOP_WORDS.contains(&word.as_str()) {
                f(word);
            }
            word.clear();
        }
        *chars_in_word = 0;
    };
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut chars_in_word);
            prev = None;
            continue;
        }
        // camelCase boundary: lower/digit followed by upper.
        if c.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit()) {
            flush(&mut word, &mut chars_in_word);
        }
        prev = Some(c);
        if chars_in_word < MAX_TOKEN {
            if c.is_ascii() {
                word.push(c.to_ascii_lowercase());
            } else {
                word.extend(c.to_lowercase());
            }
            chars_in_word += 1;
        }
    }
    flush(&mut word, &mut chars_in_word);
}

/// The largest char boundary at or below `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0)
}

/// Levenshtein distance between `a` (as chars) and `b`, giving up (returning `None`) above
/// `max`. Lengths are compared before anything is allocated.
pub(crate) fn edit_distance(a: &[char], b: &str, max: usize) -> Option<usize> {
    if a.len().abs_diff(b.chars().count()) > max {
        return None;
    }
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur: Vec<usize> = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev
                .get(j)
                .map_or(usize::MAX, |d| d + usize::from(ca != cb));
            let delete = prev.get(j + 1).map_or(usize::MAX, |d| d + 1);
            let insert = cur.last().map_or(usize::MAX, |d| d + 1);
            cur.push(substitute.min(delete).min(insert));
        }
        if cur.iter().min().is_none_or(|best| *best > max) {
            return None;
        }
        prev = cur;
    }
    prev.last().copied().filter(|distance| *distance <= max)
}
