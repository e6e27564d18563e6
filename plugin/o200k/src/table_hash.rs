// The hash of a token's bytes that places it in the rank table. Shared, by `include!`, between
// the build script that fills the table and the library that probes it, so both agree.

/// FNV-1a (64-bit) of `bytes`, folded to the table's index range by the caller.
fn table_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV's low bits mix poorly for short keys; fold the high half in.
    hash ^ (hash >> 29)
}
