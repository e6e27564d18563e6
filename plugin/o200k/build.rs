//! Writes the compact o200k_base tables into OUT_DIR from tiktoken-rs's embedded ranks:
//! every token's bytes in rank order, their offsets, and an open-addressing table from a token's
//! bytes to its rank (see `src/lib.rs` for the layout).

use std::{env, error::Error, fs, path::PathBuf};

include!("src/table_hash.rs");

/// Ordinary (non-special) ranks of o200k_base: 0 ..= 199,997.
const RANKS: u32 = 199_998;
/// Slots of the rank table (a power of two, load about 0.38).
const SLOTS: usize = 1 << 19;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/table_hash.rs");
    let bpe = tiktoken_rs::o200k_base()?;
    let mut bytes = Vec::new();
    let mut offsets = Vec::with_capacity((RANKS as usize + 1) * 4);
    let mut slots = vec![0_u32; SLOTS];
    for rank in 0..RANKS {
        let token = bpe.decode_bytes(&[rank])?;
        offsets.extend_from_slice(&u32::try_from(bytes.len())?.to_le_bytes());
        let mut slot = usize::try_from(table_hash(&token))? & (SLOTS - 1);
        while slots[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        slots[slot] = rank + 1;
        bytes.extend_from_slice(&token);
    }
    offsets.extend_from_slice(&u32::try_from(bytes.len())?.to_le_bytes());
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("o200k_bytes.bin"), &bytes)?;
    fs::write(out.join("o200k_offsets.bin"), &offsets)?;
    let slot_bytes: Vec<u8> = slots.iter().flat_map(|slot| slot.to_le_bytes()).collect();
    fs::write(out.join("o200k_slots.bin"), slot_bytes)?;
    Ok(())
}
