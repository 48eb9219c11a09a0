import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// A table much larger than the others is read in slices of heap pages (one per job) under the
/// same exported snapshot and loaded from several sessions at once: every row arrives exactly
/// once, masked as usual, and the report shows the table once.
@Suite struct PostgresSlicedCopyTests {
    /// ~1.5 KiB per row, stored inline: 20,000 rows fill about 4,000 pages (31 MiB), enough for
    /// three slices of the minimum size.
    static let sourceSQL = """
        CREATE TABLE wide (id int PRIMARY KEY, email text NOT NULL, body text NOT NULL);
        ALTER TABLE wide ALTER COLUMN body SET STORAGE PLAIN;
        INSERT INTO wide SELECT g, 'user' || g || '@corp.example.org', repeat(md5(g::text), 48) FROM generate_series(1, 20000) g;
        CREATE TABLE small (id int PRIMARY KEY, wide_id int REFERENCES wide, note text);
        INSERT INTO small SELECT g, g, 'n' || g FROM generate_series(1, 50) g;
        ANALYZE;
        """

    static func rules(where condition: String? = nil) -> String {
        """
        tables:
          wide:
            \(condition.map { "where: \"\($0)\"" } ?? "")
            columns: { id: keep, email: email, body: keep }
          small:
            columns: { id: keep, wide_id: keep, note: keep }
        """
    }

    static let options = RestoreOptions(jobs: 3, splitTablesFromRows: 1000)

    static func checksum(_ scratch: PostgresScratch, _ database: String, where condition: String = "true") throws -> [[String?]] {
        try scratch.rows(database, "SELECT count(*), md5(string_agg(id || ':' || body, ',' ORDER BY id)) FROM wide WHERE \(condition)")
    }

    @Test func aLargeTableIsCopiedInSlicesWithEveryRowOnce() throws {
        let scratch = try PostgresScratch("pgslice")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        #expect(try scratch.rows("src", "SELECT pg_relation_size('wide') / 8192 >= 3 * \(PostgresSource.minimumPagesPerSlice)")
                    == [["t"]], "the fixture must be large enough to split")
        let job = try scratch.job(rules: Self.rules())
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore(options: Self.options, observer: observer)

        #expect(observer.phases.contains { $0.contains("reading public.wide (~20000 rows) in 3 slices at once") },
                "\(observer.phases)")
        #expect(!observer.phases.contains { $0.contains("public.small") && $0.contains("slices") }, "small tables stay whole")
        let wide = report.tables.filter { $0.name == "public.wide" }
        #expect(wide.count == 1)
        #expect(wide.first?.rowsRead == 20000 && wide.first?.rowsWritten == 20000)
        #expect(report.rowCountsVerified)
        #expect(try Self.checksum(scratch, "stage") == Self.checksum(scratch, "src"), "every row once, kept bytes intact")
        #expect(try scratch.rows("stage", "SELECT count(*) FROM wide WHERE email LIKE '%corp.example.org'") == [["0"]])
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })
        #expect(try scratch.rows("stage", "SELECT count(DISTINCT email) FROM wide") == [["20000"]])
    }

    @Test func slicesKeepTheWhereCondition() throws {
        let scratch = try PostgresScratch("pgslicewhere")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + "DELETE FROM small WHERE wide_id % 2 = 1;")
        let job = try scratch.job(rules: Self.rules(where: "id % 2 = 0"))
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore(options: Self.options, observer: observer)
        #expect(observer.phases.contains { $0.contains("in 3 slices at once") })
        #expect(report.tables.first { $0.name == "public.wide" }?.rowsWritten == 10000)
        #expect(try Self.checksum(scratch, "stage") == Self.checksum(scratch, "src", where: "id % 2 = 0"))
    }

    @Test func evenSlicesCoverEveryPageOnce() {
        let slices = TableSlice.even(units: 3001, count: 3)
        #expect(slices.map(\.lower) == [nil, 1000, 2000])
        #expect(slices.map(\.upper) == [1000, 2000, nil])
        #expect(TableSlice.even(units: 2, count: 3).isEmpty && TableSlice.even(units: 100, count: 1).isEmpty)
    }
}
