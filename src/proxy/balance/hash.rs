//! Hash functions used by HAProxy's hash-based balancing (`hash-type ... sdbm|djb2|wt6|crc32
//! [avalanche]`), implemented from their published definitions.

/// Which hash function `hash-type` names (sdbm is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashFunction {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

impl HashFunction {
    pub fn hash(self, key: &[u8]) -> u32 {
        match self {
            HashFunction::Sdbm => sdbm(key),
            HashFunction::Djb2 => djb2(key),
            HashFunction::Wt6 => wt6(key),
            HashFunction::Crc32 => crc32(key),
        }
    }
}

/// sdbm: h = c + (h << 6) + (h << 16) - h.
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        (c as u32)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// djb2: h = h * 33 + c, seeded with 5381.
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(c as u32)
    })
}

/// Willy Tarreau's wt6 hash.
pub fn wt6(key: &[u8]) -> u32 {
    let mut h0: u32 = 0xa53c_965a;
    let mut h1: u32 = 0x5ca6_953a;
    let mut step0: u32 = 6;
    let mut step1: u32 = 18;
    for &c in key {
        let t = c as u32;
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// Standard CRC-32 (IEEE, reflected, poly 0xEDB88320).
pub fn crc32(key: &[u8]) -> u32 {
    let mut h: u32 = !0;
    for &c in key {
        h ^= c as u32;
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// Bob Jenkins' 32-bit full avalanche integer hash (HAProxy's `full_hash`).
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    // Spread values around the ring by a large prime close to 3/4 of 2^32.
    a.wrapping_mul(3_221_225_473)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // CRC-32 check value of "123456789".
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(sdbm(b"a"), 97);
        assert_eq!(
            sdbm(b"ab"),
            98u32
                .wrapping_add(97 << 6)
                .wrapping_add(97 << 16)
                .wrapping_sub(97)
        );
        assert_ne!(wt6(b"abc"), wt6(b"abd"));
        assert_ne!(full_hash(1), full_hash(2));
    }
}
