/// Short digests for naming things, never for masking (masking uses the keyed HMAC).
public enum Fingerprint {
    /// FNV-1a, 64 bits: stable across runs and releases (advisory lock keys, slot numbers).
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// Eight hex digits that tell values apart within one run. Seeded at random per process
    /// (Swift's Hasher), so a digest in a log cannot be matched against guessed values.
    public static func hex(_ text: String) -> String {
        var hasher = Hasher()
        hasher.combine(text)
        let value = UInt32(truncatingIfNeeded: hasher.finalize())
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
