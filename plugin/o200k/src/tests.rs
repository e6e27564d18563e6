//! Differential tests: every count equals tiktoken-rs's `count_ordinary` on o200k_base.

use super::{LONG_PIECE, NOT_A_TOKEN, PIECES, count, merge_long, merge_short, rank, token_bytes};

fn reference(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton().count_ordinary(text)
}

fn assert_same_count(text: &str) {
    assert_eq!(
        count(text),
        reference(text),
        "token count differs from tiktoken-rs for {:?}",
        text.chars().take(120).collect::<String>()
    );
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[usize::try_from(self.next() % from.len() as u64).unwrap_or(0)]
    }
}

#[test]
fn the_pre_tokenizer_pattern_compiles() {
    assert!(PIECES.is_some());
}

#[test]
fn every_rank_maps_back_to_itself() {
    for probe in (0..199_998).step_by(7) {
        assert_eq!(rank(token_bytes(probe)), probe, "rank {probe}");
    }
    assert_eq!(rank(b"\xff\xfe definitely not one token \x00"), NOT_A_TOKEN);
}

#[test]
fn counts_equal_tiktoken_on_the_repositorys_documents() {
    for document in [
        include_str!("../../../README.md"),
        include_str!("../../../docs/benchmarks.md"),
        include_str!("lib.rs"),
        include_str!("../../catalogue/src/answer.rs"),
    ] {
        assert_same_count(document);
        for line in document.lines() {
            assert_same_count(line);
        }
    }
}

#[test]
fn counts_equal_tiktoken_on_generated_mixed_text() {
    let fragments = [
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "   \n ",
        "a",
        "The",
        " quick",
        "brown",
        "FOX",
        "'s",
        "'LL",
        "don't",
        "123",
        "4567890",
        "3.14",
        "-",
        "_",
        "()",
        "{\"k\": [1, 2]}",
        "é",
        "naïve",
        "日本語",
        "中文",
        "Привет",
        "مرحبا",
        "🙂",
        "👩‍👩‍👧",
        "ẞ",
        "\u{301}",
        "def f(x):",
        "    return x",
        "crm.get_clients(adviser='M Carter')",
        "////",
        "...",
        "!!!",
        "\u{a0}",
        "x\u{200b}y",
        "CamelCaseName",
        "snake_case_name",
        "HTTPServer",
        "ｆｕｌｌ",
    ];
    let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3_000 {
        let parts = 1 + generator.next() % 24;
        let text: String = (0..parts).map(|_| generator.pick(&fragments)).collect();
        assert_same_count(&text);
    }
}

#[test]
fn long_pieces_merge_like_short_ones_and_like_tiktoken() {
    let mut generator = Generator(42);
    let alphabet = ["a", "b", "ab", "ba", "e", "th", "in", "er", "é", "ж"];
    for _ in 0..200 {
        let length = LONG_PIECE / 2 + usize::try_from(generator.next() % 600).unwrap_or(0);
        let word: String = (0..length).map(|_| generator.pick(&alphabet)).collect();
        let bytes = word.as_bytes();
        assert_eq!(merge_short(bytes), merge_long(bytes), "{word}");
        assert_same_count(&word);
    }
    for long in [
        " ".repeat(5_000),
        "\n".repeat(3_000),
        "-".repeat(4_000),
        "=+".repeat(1_500),
        "z".repeat(2_000),
        "🙂".repeat(700),
        "0".repeat(3_001),
        format!("{}x", " \t".repeat(900)),
    ] {
        assert_same_count(&long);
    }
}

#[test]
fn empty_and_single_byte_texts() {
    for text in ["", "a", " ", "\n", "\u{7f}", "é"] {
        assert_same_count(text);
    }
}
