#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `ip`: IPv4 stays IPv4 and IPv6 stays IPv6. The network part (all of it without a /prefix)
/// goes through a keyed bit permutation and the host part after a /prefix stays, so `cidr`
/// values keep their zero host bits and distinct addresses stay distinct.
struct IPTransformer: Transformer {
    let permutation: FormatPreservingPermutation

    func mask(_ value: String) throws(MaskingError) -> String? {
        var address = Substring(value)
        var prefix: Int?
        if let slash = value.firstIndex(of: "/") {
            address = value[..<slash]
            guard let bits = Int(value[value.index(after: slash)...]) else { throw invalid(value) }
            prefix = bits
        }
        if address.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, String(address), &raw) == 1 else { throw invalid(value) }
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            let bitCount = prefix ?? 128
            guard (0...128).contains(bitCount) else { throw invalid(value) }
            var hi: UInt64 = 0, lo: UInt64 = 0
            for index in 0..<8 { hi = hi << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { lo = lo << 8 | UInt64(bytes[index]) }
            let permuted = permutation.permuteBits(hi: hi, lo: lo, bitCount: bitCount, tweak: 6)
            var out = [UInt8](repeating: 0, count: 16)
            for index in 0..<8 { out[index] = UInt8(truncatingIfNeeded: permuted.hi >> UInt64(56 - index * 8)) }
            for index in 0..<8 { out[8 + index] = UInt8(truncatingIfNeeded: permuted.lo >> UInt64(56 - index * 8)) }
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: out) }
            return Self.format(&raw, family: AF_INET6, length: Int(INET6_ADDRSTRLEN)) + (prefix.map { "/\($0)" } ?? "")
        }
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { throw invalid(value) }
        var number: UInt64 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { throw invalid(value) }
            number = number << 8 | UInt64(byte)
        }
        let bitCount = prefix ?? 32
        guard (0...32).contains(bitCount) else { throw invalid(value) }
        let permuted = permutation.permuteBits(hi: number << 32, lo: 0, bitCount: bitCount, tweak: 4).hi >> 32
        let text = (0..<4).map { String((permuted >> UInt64(24 - $0 * 8)) & 0xff) }.joined(separator: ".")
        return text + (prefix.map { "/\($0)" } ?? "")
    }

    private static func format(_ raw: inout in6_addr, family: Int32, length: Int) -> String {
        var buffer = [CChar](repeating: 0, count: length)
        _ = inet_ntop(family, &raw, &buffer, socklen_t(length))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func invalid(_ value: String) -> MaskingError {
        MaskingError("ip", "\(shape(of: value)) is not an IPv4 or IPv6 address (optionally with /prefix)")
    }

    static let descriptor = TransformerDescriptor(
        name: "ip", summary: "an address of the same family; with /prefix only the network part changes",
        accepts: [.text, .network], uniqueness: .always("a keyed permutation of the address bits"),
        example: ("192.168.10.24", [:]), acceptsMaxLength: false
    ) { _, key throws in
        .init(IPTransformer(permutation: FormatPreservingPermutation(key: key.sipKey("ip"))), unique: true)
    }
}
