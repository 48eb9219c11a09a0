/// Writes a generated value's pieces straight into the storage of the string being made
/// (`String(unsafeUninitializedCapacity:)`): transformers that assemble a value from dictionary
/// words and numbers run once per row, and interpolation would allocate for each piece.
/// The capacity asked for must cover every piece written; a write past it stops the program
/// rather than corrupt memory.
struct TextWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(count + bytes.count <= buffer.count, "TextWriter: capacity exceeded")
        if let from = bytes.baseAddress {
            UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(from: from, byteCount: bytes.count)
        }
        count += bytes.count
    }

    /// `length` bytes written by `body` at the current position.
    mutating func put(length: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        precondition(count + length <= buffer.count, "TextWriter: capacity exceeded")
        body(buffer.baseAddress! + count)
        count += length
    }

    mutating func put(_ literal: StaticString) {
        precondition(count + literal.utf8CodeUnitCount <= buffer.count, "TextWriter: capacity exceeded")
        UnsafeMutableRawPointer(buffer.baseAddress! + count).copyMemory(from: literal.utf8Start,
                                                                        byteCount: literal.utf8CodeUnitCount)
        count += literal.utf8CodeUnitCount
    }

    /// A non-negative number in decimal, zero-padded to at least `digits` digits.
    mutating func put(decimal value: Int, digits: Int) {
        precondition(value >= 0)
        var length = 1
        var rest = value / 10
        while rest > 0 {
            length += 1
            rest /= 10
        }
        length = max(length, digits)
        precondition(count + length <= buffer.count, "TextWriter: capacity exceeded")
        var remaining = value
        for index in stride(from: count + length - 1, through: count, by: -1) {
            buffer[index] = UInt8(48 + remaining % 10)
            remaining /= 10
        }
        count += length
    }
}
