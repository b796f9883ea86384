//! `Idempotency-Key`s for requests that must not run twice (checkout, credit grants): one key
//! per attempt, reused when the same attempt is sent again (a double click, a retry after a
//! timeout or a network error), a fresh one once anything about the attempt changed.

use wasm_bindgen_futures::js_sys::{Date, Math};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// A fresh key: 128 random bits from the browser's CSPRNG, as 32 hex digits (visible ASCII,
/// as the server requires).
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = gloo::utils::window()
        .crypto()
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).map(|_| ()))
        .is_ok();
    if !filled {
        // No Web Crypto (very old browser): time plus Math.random, still unique enough for
        // one customer's attempts.
        let seed = format!("{:.0}{:.0}", Date::now(), Math::random() * 1e15);
        for (i, b) in seed.bytes().enumerate() {
            bytes[i % 16] ^= b.rotate_left((i / 16) as u32);
        }
    }
    key_from_bytes(&bytes)
}

/// 16 bytes as a key (`0011…ff`).
pub fn key_from_bytes(bytes: &[u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One attempt at a request that must not run twice: what it sends and the key it sends it
/// with.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt<B> {
    /// Everything that identifies the attempt (the body, and what the user saw).
    pub what: B,
    /// Its `Idempotency-Key`.
    pub key: String,
}

impl<B: PartialEq + Clone> Attempt<B> {
    /// The attempt for sending `what`: the previous one again when nothing changed (so the
    /// server answers a repeat without running it twice), else a new one with a `fresh()` key.
    pub fn next(prev: Option<&Attempt<B>>, what: &B, fresh: impl FnOnce() -> String) -> Attempt<B> {
        match prev {
            Some(p) if p.what == *what => p.clone(),
            _ => Attempt { what: what.clone(), key: fresh() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_hex_digits() {
        let k = key_from_bytes(&[0, 1, 2, 0xab, 0xff, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0x7f]);
        assert_eq!(k, "000102abff090a0b0c0d0e0f1011127f");
        assert!(k.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn the_same_attempt_reuses_its_key_and_a_changed_one_gets_a_new_key() {
        let first = Attempt::next(None, &("tok_visa", 500), || "k1".to_owned());
        assert_eq!(first.key, "k1");
        let retry = Attempt::next(Some(&first), &("tok_visa", 500), || "k2".to_owned());
        assert_eq!(retry.key, "k1", "a retry of the same attempt must not charge twice");
        let changed = Attempt::next(Some(&retry), &("tok_decline", 500), || "k3".to_owned());
        assert_eq!(changed.key, "k3");
        let credit_changed = Attempt::next(Some(&changed), &("tok_decline", 0), || "k4".to_owned());
        assert_eq!(credit_changed.key, "k4");
    }
}
