import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// `preview` of a partitioned table shows its rows; the leak check's sample of originals is
/// random, not the first rows on disk.
@Suite struct PostgresPreviewAndSampleTests {
    static let sourceSQL = """
        CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
        CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO events SELECT g, date '2024-12-01' + g, 'event for user' || g || '@corp.example.org'
          FROM generate_series(1, 100) g;
        CREATE TABLE big (id int PRIMARY KEY, email text NOT NULL);
        INSERT INTO big SELECT g, 'person' || g || '@corp.example.org' FROM generate_series(1, 10000) g;
        """

    static let rules = """
        tables:
          public.events:
            where: "id % 2 = 0"
            columns: { id: keep, at: keep, note: lorem }
          public.big:
            columns: { id: keep, email: { transform: email, unique: true } }
        """

    static func plan(_ job: TestJob, _ table: String) throws -> (PostgresEngine, TablePlan) {
        let (database, rules) = try job.database("app")
        let engine = PostgresEngine(job: database)
        let schema = try engine.inspectSource()
        let shape = try #require(schema.table(named: table))
        return (engine, TablePlan(table: shape, rule: schema.rule(for: shape, in: rules)))
    }

    @Test func previewOfAPartitionedTableReadsItsPartitions() throws {
        let scratch = try PostgresScratch("pgpreviewpart")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let (engine, plan) = try Self.plan(job, "public.events")
        #expect(!plan.table.holdsRows)

        let rows = try engine.previewRows(plan, limit: 100)
        #expect(rows.count == 50, "every even row of both partitions, as restore copies them")
        #expect(Set(rows.compactMap { $0[1]?.prefix(4) }) == ["2024", "2025"])
        #expect(rows.allSatisfy { Int($0[0] ?? "") .map { $0 % 2 == 0 } == true })
        #expect(try engine.previewRows(plan, limit: 5).count == 5)

        let previewed = try engine.preview(plan, limit: 5)
        #expect(previewed.count == 5)
        for row in previewed {
            #expect(row.original[2]?.contains("@corp.example.org") == true)
            #expect(row.masked[2] != row.original[2] && row.masked[0] == row.original[0])
        }
    }

    @Test func theLeakSampleIsRandomAndReachesTheWholeTable() throws {
        let scratch = try PostgresScratch("pgsample")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }

        func samples(_ label: String) throws {
            let snapshot = try PostgresSource(url: source)
            defer { snapshot.close() }
            let table = try #require(snapshot.schema.table(named: "public.big"))
            let plan = TablePlan(table: table, rule: try job.database("app").rules.table(named: "public.big"))
            let first = try snapshot.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 100)
            let second = try snapshot.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 100)
            #expect(first.count == 100 && second.count == 100, "\(label)")
            #expect(first.map(\.key) != second.map(\.key), "two samples are the same rows (\(label))")
            let ids = (first + second).compactMap { Int($0.key[0] ?? "") }
            #expect(ids.contains { $0 > 1000 }, "only the first rows were sampled (\(label))")
            #expect((first + second).allSatisfy { $0.value == "person\($0.key[0]!)@corp.example.org" })
        }
        // Just loaded, not analyzed: no row estimate, so the whole table is shuffled.
        try samples("without statistics")
        // Analyzed: TABLESAMPLE sized from the estimate.
        try PostgresConnection(url: source).execute("ANALYZE big")
        try samples("with statistics")

        // where: still holds.
        let snapshot = try PostgresSource(url: source)
        defer { snapshot.close() }
        let events = try #require(snapshot.schema.table(named: "public.events_2025"))
        let plan = TablePlan(table: events, rule: try job.database("app").rules.table(named: "public.events"))
        let sample = try snapshot.sampleRows(plan, keyColumns: ["id"], column: "note", limit: 100)
        #expect(!sample.isEmpty && sample.allSatisfy { Int($0.key[0] ?? "1")! % 2 == 0 })
    }
}
