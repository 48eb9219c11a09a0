import Testing
@testable import Snapmask

/// Fields are found, and values escaped, eight bytes at a time: the first tab or newline must be found wherever it
/// lies in a word, next to bytes that differ from it by one bit or one unit (0x08, 0x0b, 0x89,
/// 0x0a after 0x09 ...), in UTF-8 text, and in a last stretch shorter than a word.
@Suite struct DelimitedTextTests {
    static func naiveFieldEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var position = start
        while position < bytes.count, bytes[position] != 0x09, bytes[position] != 0x0a { position += 1 }
        return position
    }

    @Test func theFirstTabOrNewlineIsFoundAtEveryPosition() {
        let tricky: [UInt8] = [0x00, 0x01, 0x08, 0x0b, 0x19, 0x1a, 0x29, 0x7f, 0x80, 0x89, 0x8a, 0xff, 0x41, 0xc3, 0xa9]
        var generator = SystemRandomNumberGenerator()
        for length in 0..<40 {
            for _ in 0..<200 {
                var bytes = (0..<length).map { _ in tricky.randomElement(using: &generator)! }
                for _ in 0..<Int.random(in: 0...2, using: &generator) where length > 0 {
                    bytes[Int.random(in: 0..<length, using: &generator)] = Bool.random(using: &generator) ? 0x09 : 0x0a
                }
                for start in 0...length {
                    let found = bytes.withUnsafeBufferPointer { DelimitedText.fieldEnd($0, from: start) }
                    #expect(found == Self.naiveFieldEnd(bytes, from: start), "\(bytes) from \(start)")
                }
            }
        }
    }

    static func naiveEscaped(_ bytes: [UInt8], dialect: DelimitedText.Dialect) -> [UInt8] {
        bytes.flatMap { byte -> [UInt8] in
            switch byte {
            case 0x5c: [0x5c, 0x5c]
            case 0x09: [0x5c, UInt8(ascii: "t")]
            case 0x0a: [0x5c, UInt8(ascii: "n")]
            case 0x0d: [0x5c, UInt8(ascii: "r")]
            case 0 where dialect == .mysql: [0x5c, UInt8(ascii: "0")]
            default: [byte]
            }
        }
    }

    /// Values are escaped a word at a time where nothing in the word needs it: every byte that
    /// does is escaped wherever it lies, next to bytes one bit or one unit away.
    @Test func escapingMatchesTheBytewiseDefinition() {
        let tricky: [UInt8] = [0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x5b, 0x5c, 0x5d, 0xdc, 0x8d, 0x41, 0xc3]
        var generator = SystemRandomNumberGenerator()
        for dialect in [DelimitedText.Dialect.postgres, .mysql] {
            for length in 0..<40 {
                for _ in 0..<200 {
                    let plain = Bool.random(using: &generator)
                    let bytes = (0..<length).map { _ in
                        plain && Int.random(in: 0..<10, using: &generator) > 0 ? UInt8(ascii: "a")
                            : tricky.randomElement(using: &generator)!
                    }
                    var output: [UInt8] = [0x21]
                    bytes.withUnsafeBufferPointer { DelimitedText.appendEscaped($0, to: &output, dialect: dialect) }
                    #expect(output == [0x21] + Self.naiveEscaped(bytes, dialect: dialect), "\(bytes) \(dialect)")
                }
            }
        }
    }

    @Test func anEmptyBufferHasItsEndAtZero() {
        #expect([UInt8]().withUnsafeBufferPointer { DelimitedText.fieldEnd($0, from: 0) } == 0)
        #expect(Array("no delimiter here at all".utf8).withUnsafeBufferPointer { DelimitedText.fieldEnd($0, from: 3) } == 24)
    }
}
