import Foundation

/// A set of 64-bit key digests, as a subset collects them (the rows selected in a table, the
/// parent keys its rows need). Open addressing over one flat array; once the array outgrows
/// `memoryBytes` it moves into a temporary file mapped into memory, so a set of a hundred million
/// keys costs page cache the kernel can write back, not heap the process must hold. The file is
/// unlinked as soon as it is created: nothing is left behind whatever ends the process.
public final class KeyHashSet: @unchecked Sendable {
    /// 16 MiB of slots (a million keys at half load) before a set moves to a file.
    public static let defaultMemoryBytes = 16 << 20

    private var slots: UnsafeMutablePointer<UInt64>
    private var capacity: Int
    private var mapped: Bool
    public private(set) var count = 0
    private let memoryBytes: Int
    private let spillDirectory: String

    public init(memoryBytes: Int = KeyHashSet.defaultMemoryBytes,
                spillDirectory: String = FileManager.default.temporaryDirectory.path) {
        self.memoryBytes = memoryBytes
        self.spillDirectory = spillDirectory
        capacity = 1024
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        mapped = false
    }

    deinit { Self.release(slots, capacity: capacity, mapped: mapped) }

    /// True when the set lives in its temporary file.
    public var isSpilled: Bool { mapped }

    public func contains(_ key: UInt64) -> Bool {
        let key = Self.stored(key)
        var index = Int(truncatingIfNeeded: key) & (capacity - 1)
        while true {
            let slot = slots[index]
            if slot == key { return true }
            if slot == 0 { return false }
            index = (index + 1) & (capacity - 1)
        }
    }

    /// Adds the key; true when it was not there before.
    @discardableResult
    public func insert(_ key: UInt64) throws -> Bool {
        if (count + 1) * 2 > capacity { try grow() }
        let key = Self.stored(key)
        var index = Int(truncatingIfNeeded: key) & (capacity - 1)
        while true {
            let slot = slots[index]
            if slot == key { return false }
            if slot == 0 {
                slots[index] = key
                count += 1
                return true
            }
            index = (index + 1) & (capacity - 1)
        }
    }

    /// 0 marks an empty slot, so the one key that digests to 0 is stored as 1 (both then mean
    /// the same row: a subset may take one row more, never one fewer).
    @inline(__always)
    private static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    private func grow() throws {
        let newCapacity = capacity * 2
        let bytes = newCapacity * MemoryLayout<UInt64>.stride
        let spill = bytes > memoryBytes
        let newSlots = spill ? try Self.mapFile(bytes: bytes, in: spillDirectory) : .allocate(capacity: newCapacity)
        if !spill { newSlots.initialize(repeating: 0, count: newCapacity) }
        for index in 0..<capacity {
            let key = slots[index]
            guard key != 0 else { continue }
            var target = Int(truncatingIfNeeded: key) & (newCapacity - 1)
            while newSlots[target] != 0 { target = (target + 1) & (newCapacity - 1) }
            newSlots[target] = key
        }
        Self.release(slots, capacity: capacity, mapped: mapped)
        slots = newSlots
        capacity = newCapacity
        mapped = spill
    }

    /// A zero-filled shared mapping of a new, already unlinked file.
    private static func mapFile(bytes: Int, in directory: String) throws -> UnsafeMutablePointer<UInt64> {
        var template = Array((directory + "/snapmask-subset-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw SubsetSpillError(directory: directory, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        guard ftruncate(descriptor, off_t(bytes)) == 0 else {
            throw SubsetSpillError(directory: directory, reason: String(cString: strerror(errno)))
        }
        guard let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), address != MAP_FAILED else {
            throw SubsetSpillError(directory: directory, reason: String(cString: strerror(errno)))
        }
        return address.bindMemory(to: UInt64.self, capacity: bytes / MemoryLayout<UInt64>.stride)
    }

    private static func release(_ slots: UnsafeMutablePointer<UInt64>, capacity: Int, mapped: Bool) {
        if mapped {
            munmap(slots, capacity * MemoryLayout<UInt64>.stride)
        } else {
            slots.deallocate()
        }
    }
}

/// The key sets of a subset outgrew memory and their file could not be made.
public struct SubsetSpillError: Error, Sendable, CustomStringConvertible {
    public var directory: String
    public var reason: String

    public var description: String {
        "the subset's key sets outgrew memory and could not move to a file in \(directory): \(reason); give the job a "
            + "writable temporary directory with room (TMPDIR; in Kubernetes an emptyDir volume)"
    }
}

/// The digest a subset keeps of a row's key: the values' text, each with its length (NULL
/// apart), FNV-1a and a final mix. Two keys with one digest select each other's rows too, which
/// can add a row but never leave a reference without its parent, because the copy tests rows
/// with the same digests as the selection did.
public enum KeyDigest {
    public static func of(_ values: [String?]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        for value in values {
            guard let value else {
                add(0xff); add(0xfe)
                continue
            }
            var length = value.utf8.count
            for _ in 0..<4 {
                add(UInt8(truncatingIfNeeded: length))
                length >>= 8
            }
            for byte in value.utf8 { add(byte) }
        }
        // splitmix64's finaliser: FNV's low bits are weak for the set's power-of-two tables.
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }

    /// Whether a row falls in a `percent:` root: a fixed share of digests, the same every run.
    public static func inPercent(_ digest: UInt64, _ percent: Double) -> Bool {
        digest % 1_000_000 < UInt64((percent * 10_000).rounded())
    }
}
