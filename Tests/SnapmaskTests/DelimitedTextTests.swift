import Testing
@testable import Snapmask

/// Fields are found eight bytes at a time: the first tab or newline must be found wherever it
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

    @Test func anEmptyBufferHasItsEndAtZero() {
        #expect([UInt8]().withUnsafeBufferPointer { DelimitedText.fieldEnd($0, from: 0) } == 0)
        #expect(Array("no delimiter here at all".utf8).withUnsafeBufferPointer { DelimitedText.fieldEnd($0, from: 3) } == 24)
    }
}
