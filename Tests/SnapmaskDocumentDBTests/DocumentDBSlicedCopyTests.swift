import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// A large collection is read in `_id` ranges (one per job) by cursors of their own and loaded
/// from several connections at once: every document arrives exactly once, masked as usual, and
/// the report shows the collection once, whatever its `_id`s are (ObjectIds created over months,
/// strings, numbers, documents).
@Suite(.serialized) struct DocumentDBSlicedCopyTests {
    /// 1,200 events with ObjectIds spread over about a year, and 60 whose `_id` is no ObjectId.
    static func events() -> [String] {
        var documents: [String] = []
        for n in 0..<1_200 {
            // Uneven in time, as real collections are: most documents are recent.
            let seconds = 1_735_689_600 + (n * n) * 20 + n % 7
            let oid = String(format: "%08x%08x%08x", seconds, 0x5eed_0000 + n % 5, n)
            documents.append(#"{"_id": {"$oid": "\#(oid)"}, "email": "user\#(n)@corp.example.org", "n": {"$numberInt": "\#(n)"}}"#)
        }
        for n in 0..<20 {
            documents.append(#"{"_id": "legacy-\#(n)", "email": "legacy\#(n)@corp.example.org", "n": {"$numberInt": "\#(10_000 + n)"}}"#)
            documents.append(#"{"_id": {"$numberLong": "\#(n * 1_000_003)"}, "email": "number\#(n)@corp.example.org", "#
                             + #""n": {"$numberInt": "\#(20_000 + n)"}}"#)
            documents.append(#"{"_id": {"tenant": "t\#(n % 3)", "seq": {"$numberInt": "\#(n)"}}, "#
                             + #""email": "compound\#(n)@corp.example.org", "n": {"$numberInt": "\#(30_000 + n)"}}"#)
        }
        return documents
    }

    static let rules = """
        collections:
          events: { fields: { _id: keep, email: email, n: keep } }
        """

    static let options = RestoreOptions(jobs: 3, splitTablesFromRows: 1000)

    static func plan(_ job: TestJob) throws -> TablePlan {
        let (_, _, rules) = try DocumentDBJobs.engine(job)
        return TablePlan(table: TableShape(name: "events", columns: [], primaryKey: ["_id"], estimatedRows: 1_260),
                         rule: rules.table(named: "events"))
    }

    /// The `n` of every document a reader returns.
    static func numbers(_ reader: any BatchReader) throws -> [Int] {
        var numbers: [Int] = []
        while let batch = try reader.next() {
            var start = 0
            while start < batch.data.count {
                let length = batch.data[start..<start + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
                let document = try BSONDoc(bytes: Array(batch.data[start..<start + length]))
                numbers.append(try #require(document["n"]?.int))
                start += length
            }
        }
        reader.close()
        return numbers
    }

    /// The source of a scratch database holding `documents` in `events`, and the plan to read it.
    static func withSource(_ label: String, _ documents: [String],
                           _ body: (any SourceSession, TablePlan) throws -> Void) throws {
        let scratch = try DocumentDBScratch(label)
        defer { scratch.drop() }
        try scratch.insert("src", "events", documents)
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let (engine, _, _) = try DocumentDBJobs.engine(job)
        let source = try engine.openSource(readers: 3)
        defer { source.close() }
        try body(source, try plan(job))
    }

    @Test func theSlicesPartitionTheCollectionWhateverItsIds() throws {
        try Self.withSource("docslices", Self.events()) { source, plan in
            let slices = try source.slices(of: plan, into: 3)
            #expect(slices.count == 3)
            #expect(slices.first?.lower == nil && slices.last?.upper == nil)
            let parts = try slices.map { try Self.numbers(try source.makeReader(for: plan.sliced($0))) }
            let all = parts.flatMap { $0 }
            #expect(all.count == 1_260 && Set(all).count == 1_260, "every document once: \(parts.map(\.count))")
            #expect(Set(all) == Set(try Self.numbers(try source.makeReader(for: plan))))
            #expect(parts.allSatisfy { !$0.isEmpty }, "\(parts.map(\.count))")
            // Every _id that is not an ObjectId is read by the first slice.
            #expect(Set(parts[0]).isSuperset(of: (0..<20).flatMap { [10_000 + $0, 20_000 + $0, 30_000 + $0] }))
            #expect(try source.slices(of: plan, into: 1).isEmpty)
        }
    }

    @Test func aCollectionWithoutObjectIdsIsNotSplit() throws {
        let documents = (0..<50).map { #"{"_id": "k\#($0)", "email": "a\#($0)@b.example", "n": \#($0)}"# }
        try Self.withSource("docnoslices", documents) { source, plan throws in
            #expect(try source.slices(of: plan, into: 3).isEmpty)
        }
    }

    @Test func aLargeCollectionIsRestoredInIdRangesWithEveryDocumentOnce() throws {
        let scratch = try DocumentDBScratch("docsliced")
        defer { scratch.drop() }
        try scratch.insert("src", "events", Self.events())
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore("messages", options: Self.options, observer: observer) { DocumentDBEngine(job: $0) }

        #expect(observer.phases.contains { $0.contains("reading events (~1260 rows) in 3 slices at once") }, "\(observer.phases)")
        let events = report.tables.filter { $0.name == "events" }
        #expect(events.count == 1 && events.first?.rowsRead == 1_260 && events.first?.rowsWritten == 1_260)
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 } && !report.leakChecks.isEmpty)
        let source = try scratch.documents("src", "events")
        let staged = try scratch.documents("stage", "events")
        #expect(staged.count == source.count)
        // Same _ids and kept values in the same order; every address masked.
        let shape = try Regex(#""email" : "[^"]*""#)
        let unmasked = (source.map { $0.replacing(shape, with: "") }, staged.map { $0.replacing(shape, with: "") })
        let firstDifference = zip(unmasked.0, unmasked.1).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(unmasked.0 == unmasked.1, "first difference at document \(firstDifference.map(String.init) ?? "past the end")")
        #expect(!staged.contains { $0.contains("corp.example.org") })
    }
}
