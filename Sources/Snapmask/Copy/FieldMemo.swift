import Foundation

/// The masked bytes of recently seen raw field values of one column, so a column with few
/// distinct values (given names, cities, dates of birth, status codes) pays its transformer's
/// HMAC once per distinct value in view rather than once per row.
///
/// Deterministic by construction: a hit needs the same raw bytes, compared byte for byte (not as
/// Swift strings, which call composed and decomposed accents equal), and returns exactly the
/// bytes that masking those raw bytes wrote before; a masker's output depends on nothing but
/// them. Failures are never remembered, so a value that stops the run stops it every time.
///
/// A fixed-size direct-mapped table: memory stays flat whatever the table holds. A column whose
/// values rarely repeat (emails, ids, JSON documents) turns its memo off after a trial, so unique
/// columns pay nothing after it.
///
/// Not thread-safe: one masking thread uses a memo at a time (`FieldMemoShelf` hands them out).
final class FieldMemo {
    static let slotCount = 2048
    static let keyCapacity = 46
    static let outputCapacity = 80
    private static let slotSize = 2 + keyCapacity + outputCapacity
    /// Lookups before deciding whether the memo pays for itself.
    static let trialLookups = 4096

    /// Per slot: key length, output length, key bytes, output bytes.
    private let slots: UnsafeMutablePointer<UInt8>
    /// Per slot: the key's hash, 0 for an empty slot.
    private let hashes: UnsafeMutablePointer<UInt64>
    private(set) var isEnabled = true
    private var lookups = 0
    private var hits = 0

    init() {
        slots = .allocate(capacity: Self.slotCount * Self.slotSize)
        hashes = .allocate(capacity: Self.slotCount)
        hashes.initialize(repeating: 0, count: Self.slotCount)
    }

    deinit {
        slots.deallocate()
        hashes.deallocate()
    }

    /// The remembered output for `raw`, valid until the next `remember`.
    @inline(__always)
    func output(for raw: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        guard isEnabled else { return nil }
        lookups += 1
        if lookups == Self.trialLookups && hits * 4 < lookups { isEnabled = false }
        guard raw.count <= Self.keyCapacity else { return nil }
        let hash = Self.hash(raw)
        let slot = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        guard hashes[slot] == hash else { return nil }
        let base = slots + slot * Self.slotSize
        guard Int(base[0]) == raw.count, raw.isEmpty || memcmp(base + 2, raw.baseAddress!, raw.count) == 0 else {
            return nil
        }
        hits += 1
        return UnsafeBufferPointer(start: base + 2 + Self.keyCapacity, count: Int(base[1]))
    }

    /// Remembers that masking `raw` wrote `output`.
    @inline(__always)
    func remember(_ raw: UnsafeBufferPointer<UInt8>, wrote output: UnsafeBufferPointer<UInt8>) {
        guard isEnabled, raw.count <= Self.keyCapacity, output.count <= Self.outputCapacity else { return }
        let hash = Self.hash(raw)
        let slot = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        let base = slots + slot * Self.slotSize
        base[0] = UInt8(raw.count)
        base[1] = UInt8(output.count)
        if let key = raw.baseAddress { (base + 2).update(from: key, count: raw.count) }
        if let bytes = output.baseAddress { (base + 2 + Self.keyCapacity).update(from: bytes, count: output.count) }
        hashes[slot] = hash
    }

    /// A fast non-cryptographic hash (never 0); it only picks slots, equality is checked bytewise.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(bytes.count)
        var index = 0
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xff51_afd7_ed55_8ccd
                hash ^= hash >> 29
                index += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count {
                tail |= UInt64(base[index]) << shift
                shift += 8
                index += 1
            }
            hash = (hash ^ tail) &* 0xc4ce_b9fe_1a85_ec53
        }
        hash ^= hash >> 32
        return hash | 1
    }
}

/// Hands each masking thread a set of memos (one per masked column) and takes it back after the
/// batch, so memos stay warm across batches without two threads ever sharing one.
final class FieldMemoShelf: @unchecked Sendable {
    // @unchecked: the spare sets are only touched under the lock, and a set taken from the shelf
    // belongs to the taking thread until it is put back.
    private let lock = NSLock()
    private var spare: [[FieldMemo?]] = []
    private let columns: [Bool]
    /// Sets kept beyond this (more threads than usual) are dropped.
    private static let maximumSpare = 8

    /// `columns[i]`: whether field `i` gets a memo.
    init(columns: [Bool]) {
        self.columns = columns
    }

    func take() -> [FieldMemo?] {
        lock.lock()
        let set = spare.popLast()
        lock.unlock()
        return set ?? columns.map { $0 ? FieldMemo() : nil }
    }

    func putBack(_ set: [FieldMemo?]) {
        lock.lock()
        if spare.count < Self.maximumSpare { spare.append(set) }
        lock.unlock()
    }
}
