/// Keyed permutations of digit strings and bit strings (format-preserving encryption by an
/// alternating Feistel network, as in NIST FF1, with SipHash as round function).
///
/// A permutation maps distinct inputs to distinct outputs of the same shape, which is how
/// `phone`, `digits`, `ssn` and `ip` can promise `unique: true` for any number of rows.
struct FormatPreservingPermutation: Sendable {
    private static let rounds = 10
    private let key: SipHash.Key
    /// One key per round, so a round function hashes only (half, context): two message words.
    private let roundKeys: [SipHash.Key]

    init(key: SipHash.Key) {
        self.key = key
        roundKeys = (0..<UInt64(Self.rounds)).map { round in
            SipHash.Key(k0: SipHash.hash(key: key, round, 0x726f_756e_64), k1: SipHash.hash(key: key, round, 0x6b65_79))
        }
    }

    /// Permutes `value` within 0..<modA*modB, seen as (a, b) = (value / modB, value % modB).
    /// A modulus of 0 stands for 2^64, so 64-bit halves need no wider arithmetic.
    private func feistel(_ a: UInt64, _ b: UInt64, modA: UInt64, modB: UInt64, tweak: UInt64) -> (UInt64, UInt64) {
        var a = a, b = b
        for round in 0..<Self.rounds {
            if round & 1 == 0 {
                a = Self.add(a, SipHash.hash(key: roundKeys[round], b, tweak), modulus: modA)
            } else {
                b = Self.add(b, SipHash.hash(key: roundKeys[round], a, tweak), modulus: modB)
            }
        }
        return (a, b)
    }

    @inline(__always)
    private static func add(_ x: UInt64, _ f: UInt64, modulus: UInt64) -> UInt64 {
        guard modulus != 0 else { return x &+ f }
        let (sum, overflow) = x.addingReportingOverflow(f % modulus)
        return overflow || sum >= modulus ? sum &- modulus : sum
    }

    // MARK: Decimal digits

    private static let powersOfTen: [UInt64] = (0...19).map { exponent in
        (0..<exponent).reduce(UInt64(1)) { value, _ in value &* 10 }
    }

    /// Up to 18 digits fit one permutation; longer strings are cut into chunks, each tweaked by
    /// the chunks before it, which keeps the whole mapping one-to-one.
    private static let chunkLength = 18

    /// Permutes a string of digit values (0...9, not characters) in place.
    func permuteDigits(_ digits: inout [UInt8], tweak: UInt64) {
        digits.withUnsafeMutableBufferPointer { permuteDigits($0, tweak: tweak) }
    }

    /// Permutes digit values (0...9) in place.
    func permuteDigits(_ digits: UnsafeMutableBufferPointer<UInt8>, tweak: UInt64) {
        var chained = tweak ^ UInt64(digits.count) << 48
        var start = 0
        while start < digits.count {
            let end = min(start + Self.chunkLength, digits.count)
            let length = end - start
            var value: UInt64 = 0
            for index in start..<end { value = value * 10 + UInt64(digits[index]) }
            let permuted = permuteNumber(value, digitCount: length, tweak: chained)
            // Only a later chunk reads the chain: most values are one chunk and skip this hash.
            if end < digits.count { chained = SipHash.hash(key: key, chained, value) }
            var rest = permuted
            for index in stride(from: end - 1, through: start, by: -1) {
                digits[index] = UInt8(rest % 10)
                rest /= 10
            }
            start = end
        }
    }

    /// A permutation of 0..<10^digitCount (digitCount ≤ 18).
    func permuteNumber(_ value: UInt64, digitCount: Int, tweak: UInt64) -> UInt64 {
        precondition(digitCount <= Self.chunkLength)
        let lengthA = digitCount / 2
        let modA = Self.powersOfTen[lengthA], modB = Self.powersOfTen[digitCount - lengthA]
        let (a, b) = feistel(value / modB, value % modB, modA: modA, modB: modB,
                             tweak: tweak ^ UInt64(digitCount))
        return a * modB + b
    }

    // MARK: Bits

    /// A permutation of the top `bitCount` bits of a 128-bit value (hi, lo); the other bits are
    /// kept. `ip` uses it to permute the network part of an address and keep the host part.
    func permuteBits(hi: UInt64, lo: UInt64, bitCount: Int, tweak: UInt64) -> (hi: UInt64, lo: UInt64) {
        precondition((0...128).contains(bitCount))
        guard bitCount > 0 else { return (hi, lo) }
        let value = Self.topBits(hi: hi, lo: lo, count: bitCount)
        let permuted: (hi: UInt64, lo: UInt64)
        if bitCount == 1 {
            let flip = SipHash.hash(key: key, tweak, 1) & 1
            permuted = (0, value.lo ^ flip)
        } else {
            let lengthA = bitCount / 2, lengthB = bitCount - lengthA
            // Split the bitCount-bit number into a (high lengthA bits) and b (low lengthB bits).
            let b = Self.lowWord(value.lo, count: lengthB)
            let shifted = Self.shiftRight(hi: value.hi, lo: value.lo, by: lengthB)
            let (a2, b2) = feistel(shifted.lo, b, modA: Self.modulus(bits: lengthA), modB: Self.modulus(bits: lengthB),
                                   tweak: tweak ^ UInt64(bitCount) << 32)
            let joinedHigh = Self.shiftLeft(hi: 0, lo: a2, by: lengthB)
            permuted = (joinedHigh.hi, joinedHigh.lo | b2)
        }
        // Put the permuted bits back on top and keep the remaining low bits.
        let keep = 128 - bitCount
        let top = Self.shiftLeft(hi: permuted.hi, lo: permuted.lo, by: keep)
        let low = Self.lowBits(hi: hi, lo: lo, count: keep)
        return (top.hi | low.hi, top.lo | low.lo)
    }

    private static func modulus(bits: Int) -> UInt64 { bits >= 64 ? 0 : UInt64(1) << UInt64(bits) }

    private static func topBits(hi: UInt64, lo: UInt64, count: Int) -> (hi: UInt64, lo: UInt64) {
        shiftRight(hi: hi, lo: lo, by: 128 - count)
    }

    private static func lowWord(_ lo: UInt64, count: Int) -> UInt64 {
        count >= 64 ? lo : lo & ((UInt64(1) << UInt64(count)) - 1)
    }

    private static func lowBits(hi: UInt64, lo: UInt64, count: Int) -> (hi: UInt64, lo: UInt64) {
        if count >= 128 { return (hi, lo) }
        if count >= 64 { return (count == 64 ? 0 : hi & ((UInt64(1) << UInt64(count - 64)) - 1), lo) }
        return (0, lo & ((UInt64(1) << UInt64(count)) - 1))
    }

    private static func shiftRight(hi: UInt64, lo: UInt64, by count: Int) -> (hi: UInt64, lo: UInt64) {
        if count == 0 { return (hi, lo) }
        if count >= 128 { return (0, 0) }
        if count >= 64 { return (0, hi >> UInt64(count - 64)) }
        return (hi >> UInt64(count), (lo >> UInt64(count)) | (hi << UInt64(64 - count)))
    }

    private static func shiftLeft(hi: UInt64, lo: UInt64, by count: Int) -> (hi: UInt64, lo: UInt64) {
        if count == 0 { return (hi, lo) }
        if count >= 128 { return (0, 0) }
        if count >= 64 { return (lo << UInt64(count - 64), 0) }
        return ((hi << UInt64(count)) | (lo >> UInt64(64 - count)), lo << UInt64(count))
    }
}
