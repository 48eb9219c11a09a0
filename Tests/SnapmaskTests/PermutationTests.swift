import Foundation
import Testing
@testable import Snapmask

/// The keyed permutations behind `phone`, `digits`, `ssn`, `credit_card` and `ip`.
@Suite struct PermutationTests {
    static let permutation = FormatPreservingPermutation(key: testKey.sipKey("permutation-tests"))

    @Test(arguments: [1, 2, 3, 4])
    func permuteNumberIsABijection(digitCount: Int) {
        let size = Int(pow(10, Double(digitCount)))
        for tweak: UInt64 in [0, 7] {
            var outputs = Set<UInt64>()
            for value in 0..<UInt64(size) {
                let output = Self.permutation.permuteNumber(value, digitCount: digitCount, tweak: tweak)
                #expect(output < UInt64(size))
                outputs.insert(output)
            }
            #expect(outputs.count == size, "\(digitCount) digits, tweak \(tweak)")
            let moved = (0..<UInt64(size)).filter { Self.permutation.permuteNumber($0, digitCount: digitCount, tweak: tweak) != $0 }
            #expect(moved.count > size / 2, "not the identity")
        }
    }

    @Test func permuteDigitsIsInjectiveOnLongStrings() {
        var random = SplitMix(state: 25)
        let base = (0..<25).map { _ in UInt8(random.below(10)) }
        var samples: [[UInt8]] = []
        // Strings differing only in the first chunk, only in the last chunk, and random ones.
        for index in 0..<1000 {
            var sample = base
            sample[3] = UInt8(index % 10); sample[10] = UInt8(index / 10 % 10); sample[17] = UInt8(index / 100)
            samples.append(sample)
        }
        for index in 0..<1000 {
            var sample = base
            sample[18] = UInt8(index % 10); sample[21] = UInt8(index / 10 % 10); sample[24] = UInt8(index / 100)
            samples.append(sample)
        }
        for _ in 0..<2000 { samples.append((0..<25).map { _ in UInt8(random.below(10)) }) }
        let inputs = Set(samples)
        var outputs = Set<[UInt8]>()
        for input in inputs {
            var digits = input
            Self.permutation.permuteDigits(&digits, tweak: 0)
            #expect(digits.count == 25 && digits.allSatisfy { $0 < 10 })
            outputs.insert(digits)
        }
        #expect(outputs.count == inputs.count)
    }

    @Test func permuteBitsIsABijectionOn16Bits() {
        var outputs = Set<UInt64>()
        for value in UInt64(0)..<65536 {
            let result = Self.permutation.permuteBits(hi: value << 48, lo: 0, bitCount: 16, tweak: 4)
            #expect(result.lo == 0 && result.hi & 0x0000_FFFF_FFFF_FFFF == 0)
            outputs.insert(result.hi >> 48)
        }
        #expect(outputs.count == 65536)
    }

    @Test(arguments: [1, 3, 7, 11])
    func permuteBitsIsABijectionOnSmallWidths(bitCount: Int) {
        let size = UInt64(1) << UInt64(bitCount)
        let outputs = Set((0..<size).map { Self.permutation.permuteBits(hi: $0 << UInt64(64 - bitCount), lo: 0,
                                                                         bitCount: bitCount, tweak: 9).hi })
        #expect(outputs.count == Int(size))
    }

    @Test(arguments: [1, 2, 16, 24, 32, 63, 64, 65, 96, 127])
    func permuteBitsKeepsTheLowBits(bitCount: Int) {
        var random = SplitMix(state: UInt64(bitCount))
        var tops = Set<[UInt64]>()
        for _ in 0..<200 {
            let hi = random.next(), lo = random.next()
            let result = Self.permutation.permuteBits(hi: hi, lo: lo, bitCount: bitCount, tweak: 6)
            let keep = 128 - bitCount
            let lowMask: (hi: UInt64, lo: UInt64) = keep >= 64
                ? (keep == 64 ? 0 : (UInt64(1) << UInt64(keep - 64)) - 1, UInt64.max)
                : (0, (UInt64(1) << UInt64(keep)) - 1)
            #expect(result.hi & lowMask.hi == hi & lowMask.hi && result.lo & lowMask.lo == lo & lowMask.lo,
                    "low \(keep) bits kept")
            tops.insert([result.hi & ~lowMask.hi, result.lo & ~lowMask.lo])
        }
        #expect(tops.count > (bitCount < 8 ? 1 : 190), "the top bits move")
    }

    @Test func permuteBitsOnAll128Bits() {
        var random = SplitMix(state: 128)
        var outputs = Set<[UInt64]>()
        for _ in 0..<2000 {
            let result = Self.permutation.permuteBits(hi: random.next(), lo: random.next(), bitCount: 128, tweak: 6)
            outputs.insert([result.hi, result.lo])
        }
        #expect(outputs.count == 2000)
    }

    // MARK: SipHash-2-4

    /// Key 00 01 … 0f, as two little-endian words.
    static let paperKey = SipHash.Key(k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908)

    /// Expected values from an independent Python implementation (checked against the paper's
    /// 15-byte vector a129ca6149be45e5) and the `siphash` package from PyPI: key 00..0f,
    /// message 00..0f (16 bytes) and 00..1f (32 bytes). The Swift API has no 8-byte form.
    @Test func sipHashMatchesTheReferenceVectors() {
        #expect(SipHash.hash(key: Self.paperKey, 0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908) == 0x3f2a_cc7f_57c2_9bdb)
        #expect(SipHash.hash(key: Self.paperKey, 0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908,
                             0x1716_1514_1312_1110, 0x1f1e_1d1c_1b1a_1918) == 0x7127_512f_72f2_7cce)
    }
}
