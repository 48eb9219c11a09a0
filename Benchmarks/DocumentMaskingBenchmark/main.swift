import Foundation
import Snapmask
import SnapmaskDocumentDB

/// Documents per second of one core's CPU time (thread CPU time, so other work on a shared
/// machine does not count) for the DocumentDB driver's masking step, in-process (the MongoDB-wire
/// test server cannot measure database throughput): generated ~1 KiB message documents, in
/// batches of 1,000 documents.
///
///     swift run -c release --scratch-path .build-docdb DocumentMaskingBenchmark [documents] [elements per array]
///
/// Rows of the table:
/// - `decode to values → encode`: each document decoded into a tree of values and encoded again;
/// - `plain copy (libbson)`: bson_iter over each document, bson_append_iter of every element;
/// - `plain copy (re-encode)`: every element decoded and encoded again, recursively, no rules;
/// - `masker, all keep`: the masker with a rule per path, all `keep`: the fail-closed walk alone;
/// - `masker, 5 paths → constant`: the same 5 paths masked by `constant`, a transformer that
///   costs nothing: what decoding and encoding the masked values costs;
/// - `masker, 5 paths`: the same rules with 5 paths masked, 2 of them inside arrays
///   (sender.email, sender.phone, device.token, recipients[].email, attachments[].uploaded_by.email);
/// - `transformers alone`: the same transformer calls on the same values, without any BSON.
/// Exits non-zero when, with one element per array (5 masked values per document), the masker
/// falls below 300,000 documents/s.

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
/// Recipients and attachments per message (the masked paths inside arrays). With one each a
/// message is about 1 KiB and has 5 masked values; with two, 1.3 KiB and 7.
let elements = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1 : 1
let key = try MaskingKey("benchmark-masking-key-0123456789")

let keptPaths = [
    "_id", "thread_id", "sender.user_id", "sender.name", "recipients[].user_id", "recipients[].name", "recipients[].read_at",
    "subject", "body", "attachments[].file_id", "attachments[].filename", "attachments[].size", "attachments[].mime",
    "attachments[].uploaded_by.user_id", "attachments[].uploaded_at", "device.platform", "sent_at", "read", "priority",
    "labels", "metadata.user_agent", "metadata.spam_score", "metadata.client_ip",
]
let maskedPaths = [
    ("sender.email", "email"), ("sender.phone", "{ transform: phone, keep_last: 2 }"), ("device.token", "hash"),
    ("\"recipients[].email\"", "email"), ("\"attachments[].uploaded_by.email\"", "email"),
]

func rules(masking: Bool, with transformer: String? = nil) throws -> CompiledTable {
    var fields = keptPaths.map { "      \"\($0)\": keep" }
    fields += maskedPaths.map { "      \($0.0): \(masking ? transformer ?? $0.1 : "keep")" }
    let text = "collections:\n  messages:\n    fields:\n" + fields.joined(separator: "\n") + "\n"
    return try CompiledRules.compile(try RuleSet.parse(text, file: "benchmark.yaml"), key: key).table(named: "messages")!
}

/// A small BSON writer for generating documents (the driver's own is internal).
struct Writer {
    var bytes: [UInt8] = []
    mutating func int32(_ value: Int32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int64(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func key(_ type: UInt8, _ name: String) {
        bytes.append(type)
        bytes.append(contentsOf: name.utf8)
        bytes.append(0)
    }
    mutating func string(_ name: String, _ value: String) {
        key(0x02, name)
        int32(Int32(value.utf8.count + 1))
        bytes.append(contentsOf: value.utf8)
        bytes.append(0)
    }
    mutating func objectId(_ name: String, _ value: Int) {
        key(0x07, name)
        int32(0x6500_0000)
        int64(Int64(value))
    }
    mutating func date(_ name: String, _ millis: Int64) { key(0x09, name); int64(millis) }
    mutating func document(_ name: String, type: UInt8 = 0x03, _ body: (inout Writer) -> Void) {
        key(type, name)
        let start = bytes.count
        int32(0)
        body(&self)
        bytes.append(0)
        let length = Int32(bytes.count - start).littleEndian
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: Int32.self) }
    }
}

func padded(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// One message of about 1 KiB; every masked value is distinct across documents.
func message(_ n: Int, into writer: inout Writer) {
    let start = writer.bytes.count
    writer.int32(0)
    writer.objectId("_id", n)
    writer.objectId("thread_id", n / 3)
    writer.document("sender") { w in
        w.objectId("user_id", n % 50_000)
        w.string("name", "Given\(n % 997) Family\(n % 1999)")
        w.string("email", "person\(n)@company\(n % 997).example.com")
        w.string("phone", "+1 (415) \(padded(n / 10_000 % 1000, 3))-\(padded(n % 10_000, 4))")
    }
    writer.document("recipients", type: 0x04) { w in
        for k in 0..<elements {
            w.document("\(k)") { r in
                r.objectId("user_id", (n * 7 + k) % 50_000)
                r.string("name", "Given\((n + k) % 997) Family\((n * 3 + k) % 1999)")
                r.string("email", "recipient\(n)-\(k)@mail\(n % 89).example.org")
                r.date("read_at", 1_760_000_000_000 + Int64(n))
            }
        }
    }
    writer.string("subject", "Quarterly numbers \(n % 100)")
    writer.string("body", "Hi, the numbers for Q\(n % 4 + 1) are in the attached report; call me if anything looks off. \(n)")
    writer.document("attachments", type: 0x04) { w in
        for k in 0..<elements {
            w.document("\(k)") { a in
                a.objectId("file_id", n * 2 + k)
                a.string("filename", "report-\(n)-\(k).pdf")
                a.key(0x12, "size")
                a.int64(Int64(1000 + n % 5_000_000))
                a.string("mime", "application/pdf")
                a.document("uploaded_by") { u in
                    u.objectId("user_id", (n + k) % 50_000)
                    u.string("email", "uploader\(n)-\(k)@files\(n % 53).example.net")
                }
                a.date("uploaded_at", 1_750_000_000_000 + Int64(n * 1000))
            }
        }
    }
    writer.document("device") { d in
        d.string("token", "apns-\(padded(n, 12))-\(padded(n % 7919, 8))")
        d.string("platform", n % 2 == 0 ? "ios" : "android")
    }
    writer.date("sent_at", 1_760_000_000_000 + Int64(n) * 60_000)
    writer.key(0x08, "read")
    writer.bytes.append(n % 2 == 0 ? 1 : 0)
    writer.key(0x10, "priority")
    writer.int32(Int32(n % 3))
    writer.document("labels", type: 0x04) { l in
        l.string("0", "inbox")
        l.string("1", "work")
    }
    writer.document("metadata") { m in
        m.string("client_ip", "198.51.100.\(n % 250)")
        m.string("user_agent", "QuikApp/5.2 (iPhone; iOS 17.4)")
        m.key(0x01, "spam_score")
        m.int64(Int64(bitPattern: Double(n % 1000).bitPattern))
    }
    writer.bytes.append(0)
    let length = Int32(writer.bytes.count - start).littleEndian
    writer.bytes.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: Int32.self) }
}

let batchSize = 1000

func generate() -> (batches: [RowBatch], bytes: Int) {
    var batches: [RowBatch] = []
    var bytes = 0
    var n = 0
    while n < count {
        var writer = Writer()
        writer.bytes.reserveCapacity(1_200 * batchSize)
        let first = n
        while n < min(count, first + batchSize) {
            message(n, into: &writer)
            n += 1
        }
        bytes += writer.bytes.count
        batches.append(RowBatch(data: writer.bytes, rowCount: n - first, firstRow: first))
    }
    return (batches, bytes)
}

print("generating \(count) documents...")
let (batches, totalBytes) = generate()
let averageSize = Double(totalBytes) / Double(count)

/// The masked values of each document, for the transformer-only row.
let transformers = try [("email", [String]()), ("phone", ["keep_last=2"]), ("hash", [])].map {
    try TransformerCatalog.compile(try TransformSpec.fromCommandLine(name: $0.0, options: $0.1), key: key)
}

/// This thread's CPU time in seconds: time the thread spends waiting for a core (the machine is
/// shared) does not count, so the figures are per core-second.
func cpuTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = cpuTime()
    try body()
    return cpuTime() - start
}

func measure(_ body: (RowBatch) throws -> Int) rethrows -> (seconds: Double, checksum: Int) {
    var checksum = 0
    // One warm-up batch, then the timed pass over every document.
    checksum &+= try body(batches[0])
    let elapsed = try timed {
        for batch in batches { checksum &+= try body(batch) }
    }
    return (elapsed, checksum)
}

let keepAll = DocumentMasker(collection: "messages", rules: try rules(masking: false), unlisted: .fail)
let masking = DocumentMasker(collection: "messages", rules: try rules(masking: true), unlisted: .fail)
let constant = DocumentMasker(collection: "messages", rules: try rules(masking: true, with: "{ transform: constant, value: x }"),
                              unlisted: .fail)

// For profiling one step alone: DOCUMENT_MASKING_BENCHMARK_ONLY=mask|keep|copy
if let only = ProcessInfo.processInfo.environment["DOCUMENT_MASKING_BENCHMARK_ONLY"] {
    if only == "generate" { exit(0) }
    let masker = only == "keep" ? keepAll : only == "constant" ? constant : masking
    for _ in 0..<5 {
        let time = try measure { only == "copy" ? try DocumentCopy.reencode($0).data.count : try masker.mask($0).data.count }
            .seconds
        print("\(only): \(Int(Double(count) / time)) documents/s")
    }
    exit(0)
}

let calls = 3 + 2 * elements
// The same values as the masker masks, built up front: 3 + 2 per array element for each document.
let inputs: [(Int, String)] = (0..<count).flatMap { document in
    [(0, "person\(document)@company\(document % 997).example.com"),
     (1, "+1 (415) \(padded(document / 10_000 % 1000, 3))-\(padded(document % 10_000, 4))"),
     (2, "apns-\(padded(document, 12))-\(padded(document % 7919, 8))")]
        + (0..<elements).flatMap { k in
            [(0, "recipient\(document)-\(k)@mail\(document % 89).example.org"),
             (0, "uploader\(document)-\(k)@files\(document % 53).example.net")]
        }
}
var transformerChecksum = 0

/// Each step's best pass over all documents, the steps taking turns (`rounds` rounds), so a busy
/// machine slows them alike rather than one of them.
let rounds = Int(ProcessInfo.processInfo.environment["DOCUMENT_MASKING_BENCHMARK_ROUNDS"] ?? "") ?? 3
let steps: [(String, Int, () throws -> Double)] = [
    ("decode to values → encode", 0, { try measure { try DocumentCopy.decodeToValues($0).data.count }.seconds }),
    ("plain copy (libbson)", 0, { try measure { try DocumentCopy.libbson($0).data.count }.seconds }),
    ("plain copy (re-encode)", 0, { try measure { try DocumentCopy.reencode($0).data.count }.seconds }),
    ("masker, all keep", 0, { try measure { try keepAll.mask($0).data.count }.seconds }),
    ("masker, 5 paths→constant", 0, { try measure { try constant.mask($0).data.count }.seconds }),
    ("masker, 5 paths", calls, { try measure { try masking.mask($0).data.count }.seconds }),
    ("transformers alone", calls, {
        try timed {
            for (index, value) in inputs { transformerChecksum &+= try transformers[index].mask(value)?.utf8.count ?? 0 }
        }
    }),
]
var best = [Double](repeating: .infinity, count: steps.count)
for _ in 0..<max(1, rounds) {
    for (index, step) in steps.enumerated() { best[index] = min(best[index], try step.2()) }
}
let rows = steps.enumerated().map { ($0.element.0, best[$0.offset], $0.element.1) }

print(String(format: "%d documents, %.0f bytes each on average, %d recipients and %d attachments each, batches of %d, one core, "
             + "thread CPU time, best of %d rounds\n", count, averageSize, elements, elements, batchSize, max(1, rounds)))
print("step                      documents/s    ns/doc   MB/s   vs plain copy (re-encode)")
print("------------------------  -----------  --------  -----  -------------------------")
let baseline = rows[2].1
for (name, time, calls) in rows {
    let perDocument = time / Double(count) * 1e9
    let note = calls > 0 ? " (\(calls) transformer calls/doc)" : ""
    print(name.padding(toLength: 24, withPad: " ", startingAt: 0),
          String(format: "%11.0f  %8.0f  %5.0f  %+6.0f%%", Double(count) / time, perDocument,
                 Double(totalBytes) / time / 1e6, (time / baseline - 1) * 100) + note)
}
let masked = rows[5].1, machinery = rows[4].1, alone = rows[6].1
print(String(format: "\nmasking machinery (5 paths → constant) vs plain copy (re-encode): %+.0f%%; vs plain copy (libbson): %+.0f%%",
             (machinery / baseline - 1) * 100, (machinery / rows[1].1 - 1) * 100))
print(String(format: "transformer calls alone: %.0f%% of the masker's time", alone / masked * 100))
if elements == 1 && Double(count) / masked < 300_000 {
    print("below the target of 300,000 documents/s")
    exit(1)
}
