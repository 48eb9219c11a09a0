import Crypto
import Foundation
import Snapmask

/// What a snapshot keeps of the originals so that a restore from it can run the leak check
/// without them: for a random sample of rows of each masked column (by a kept primary key), the
/// row's key and a truncated keyed digest of each original the column's rules mask. After
/// loading (and after the overrides), the restore reads the same rows from the shadow copy and
/// digests what is there: the digest of a restored value equal to its original's is a leak.
///
/// The digest is HMAC-SHA256 under a key derived from the archive key (and the snapshot id),
/// over table, column, rule and value, truncated to `bits` bits. Truncation is the point: with
/// the archive key stolen, a full digest would confirm guesses of low-entropy originals (an SSN,
/// a birth date) with certainty; at 28 bits about one guess in 268 million matches by chance, so
/// among the ~10⁹ possible SSNs some four match each digest and none is confirmed. Values with
/// fewer possibilities than that (dates, small numbers) remain guessable by whoever holds the
/// archive key; that key already opens the (masked) rows, and it never leaves the two jobs. The
/// price is a false alarm once in 268 million comparisons (the restore then fails closed).
/// A snapshot made without an archive key keeps no samples (an unkeyed digest would be a
/// confirmation oracle for anyone reading the store); its restore reports the check made while
/// it was written.
public struct LeakSampleSet: Codable, Sendable {
    public struct Rule: Codable, Sendable {
        /// `PathLeakCheck.slot` for a path rule; the column's name for a plain column.
        public var slot: String
        /// As reports name it: the column, or the rule's path inside the JSON column or document.
        public var name: String
        public var transformer: String
    }

    public struct Probe: Codable, Sendable {
        /// Index into `rules`.
        public var rule: Int
        /// Nil for a plain column (the whole value); else where in the JSON the original went.
        public var place: PathLeakCheck.Place?
        /// An `array: true` column: the element's position in the array (the whole value when nil).
        public var element: Int?
        public var digest: UInt32
    }

    public struct Row: Codable, Sendable {
        public var key: [String?]
        public var probes: [Probe]
    }

    public var table: String
    /// The column read back; `LeakCheck.wholeDocument` (empty) for a collection's documents.
    public var column: String
    public var keyColumns: [String]
    /// True for JSON columns and documents: one result per rule, compared leaf by leaf.
    public var byPath: Bool
    public var rules: [Rule]
    public var rows: [Row]

    public static let bits = 28
    /// Probes kept per set, whatever the size of the sampled JSON values.
    static let probeLimit = 20_000
}

/// The keyed, truncated digest of the leak samples.
struct LeakDigest: Sendable {
    let key: KeyBytes

    func callAsFunction(table: String, column: String, slot: String, value: String) -> UInt32 {
        var hmac = HMAC<SHA256>(key: key.key)
        for field in [table, column, slot, value] {
            hmac.update(data: Array(field.utf8))
            hmac.update(data: [0])
        }
        let code = Array(hmac.finalize())
        let word = UInt32(code[0]) << 24 | UInt32(code[1]) << 16 | UInt32(code[2]) << 8 | UInt32(code[3])
        return word >> UInt32(32 - LeakSampleSet.bits)
    }
}

enum SnapshotLeakSamples {
    /// A plain masked column: the sampled rows (originals the transformer would change only);
    /// an `array: true` column's elements one by one, so one original among fakes is found.
    static func column(_ table: TablePlan, column: CompiledColumn, keys: [String], sample: [SampledRow],
                       digest: LeakDigest, arrays: (any ArrayLiteralCodec)?) throws -> LeakSampleSet {
        func probe(_ value: String, element: Int? = nil) -> LeakSampleSet.Probe {
            .init(rule: 0, place: nil, element: element,
                  digest: digest(table: table.name, column: column.name, slot: column.name, value: value))
        }
        let rows = try sample.map { row in
            guard column.rule.perElement else { return LeakSampleSet.Row(key: row.key, probes: [probe(row.value)]) }
            let elements = try LeakCheck.leakableElements(of: [row.value], column: column, table: table, arrays: arrays)
            let all = (try? arrays?.elements(of: row.value)) ?? []
            return LeakSampleSet.Row(key: row.key, probes: all.enumerated().compactMap { index, element in
                guard let element, elements.contains(element) else { return nil }
                return probe(element, element: index)
            })
        }
        return LeakSampleSet(table: table.name, column: column.name, keyColumns: keys, byPath: false,
                             rules: [.init(slot: column.name, name: column.name, transformer: column.transformer.name)],
                             rows: rows)
    }

    /// A JSON column (`column` its name) or a collection's documents (`column` empty): each
    /// sampled original is walked along the path rules (`PathLeakCheck.probes`, the walk of the
    /// restore's own leak check); each leaf a rule would change becomes a probe.
    static func paths(_ table: TablePlan, column: String, rules: [CompiledColumn], tree: FieldPathRules, keys: [String],
                      sample: [SampledRow], digest: LeakDigest) -> LeakSampleSet {
        let slots = rules.map(PathLeakCheck.slot)
        var index: [String: Int] = [:]
        for (position, slot) in slots.enumerated() where index[slot] == nil { index[slot] = position }
        var rows: [LeakSampleSet.Row] = []
        var kept = 0
        for row in sample where kept < LeakSampleSet.probeLimit {
            var probes: [LeakSampleSet.Probe] = []
            for probe in PathLeakCheck.probes(original: row.value, tree: tree) where probe.canLeak {
                let slot = PathLeakCheck.slot(probe.rule)
                guard let rule = index[slot] else { continue }
                probes.append(.init(rule: rule, place: probe.place,
                                    digest: digest(table: table.name, column: column, slot: slot, value: probe.original)))
            }
            kept += probes.count
            rows.append(.init(key: row.key, probes: probes))
        }
        return LeakSampleSet(table: table.name, column: column, keyColumns: keys, byPath: true,
                             rules: rules.map { .init(slot: PathLeakCheck.slot($0), name: $0.displayName, transformer: $0.transformer.name) },
                             rows: rows)
    }

    /// The restore's side: the sampled rows read back from the shadow copy and digested. The
    /// check made while the snapshot was written is reported for the columns no set covers
    /// (no kept key to find the same rows by).
    static func check(_ sets: [LeakSampleSet], written: [LeakCheckResult], plan: RestorePlan, target: any TargetSession,
                      digest: LeakDigest?, arrays: (any ArrayLiteralCodec)?) throws -> [LeakCheckResult] {
        var results: [LeakCheckResult] = []
        var covered = Set<String>()
        for set in sets {
            guard let digest, let table = plan.tables.first(where: { $0.name == set.table }) else { continue }
            covered.insert("\(set.table)\u{0}\(set.column)")
            let copies = try target.values(table, keyColumns: set.keyColumns, column: set.column, keys: set.rows.map(\.key))
            var searched = [Int](repeating: 0, count: set.rules.count), leaks = searched
            for row in set.rows {
                let copy = copies[row.key] ?? nil
                if set.byPath {
                    let parsed = PathLeakCheck.Copy(copy)
                    guard !parsed.isEmpty else { continue }
                    for probe in row.probes where set.rules.indices.contains(probe.rule) {
                        let rule = set.rules[probe.rule]
                        searched[probe.rule] += 1
                        let texts = probe.place.map { parsed.texts(at: $0) } ?? []
                        if texts.contains(where: { digest(table: set.table, column: set.column, slot: rule.slot, value: $0) == probe.digest }) {
                            leaks[probe.rule] += 1
                        }
                    }
                } else {
                    for probe in row.probes where set.rules.indices.contains(probe.rule) {
                        searched[probe.rule] += 1
                        let rule = set.rules[probe.rule]
                        guard let copied = try copy.flatMap({ try restored(probe, in: $0, of: set, arrays: arrays) }) else { continue }
                        if digest(table: set.table, column: set.column, slot: rule.slot, value: copied) == probe.digest {
                            leaks[probe.rule] += 1
                        }
                    }
                }
            }
            for (position, rule) in set.rules.enumerated() {
                let document = set.column.isEmpty
                results.append(LeakCheckResult(table: set.table, column: document ? rule.name : set.column,
                                               path: set.byPath && !document ? rule.name : nil, transformer: rule.transformer,
                                               method: .byKey, sampled: searched[position], leaks: leaks[position]))
            }
        }
        // Columns without a set: what was found while the snapshot was written.
        for result in written where !covered.contains("\(result.table)\u{0}\(result.column)") {
            if covered.contains("\(result.table)\u{0}\(LeakCheck.wholeDocument)") { continue }
            results.append(result)
        }
        return results
    }

    /// What a plain column's probe is compared with: the copy, or the element at the probe's
    /// position of the copied array (none when the array is shorter or does not parse).
    private static func restored(_ probe: LeakSampleSet.Probe, in copy: String, of set: LeakSampleSet,
                                 arrays: (any ArrayLiteralCodec)?) throws -> String? {
        guard let position = probe.element else { return copy }
        let arrays = try LeakCheck.requireArrays(arrays, table: set.table, column: set.column)
        guard let elements = try? arrays.elements(of: copy), elements.indices.contains(position) else { return nil }
        return elements[position]
    }
}
