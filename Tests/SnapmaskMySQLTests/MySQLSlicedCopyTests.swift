import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A large table with a one-column integer primary key is read in key ranges (one per job) on
/// the sessions of the shared snapshot and loaded from several sessions at once: every row
/// arrives exactly once, masked as usual, and the report shows the table once.
@Suite struct MySQLSlicedCopyTests {
    static let sourceSQL = """
        SET SESSION max_recursive_iterations = 100000;
        CREATE TABLE wide (id bigint PRIMARY KEY, email varchar(100) NOT NULL, body text NOT NULL);
        INSERT INTO wide WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 20000)
          SELECT g * 3 - 7, CONCAT('user', g, '@corp.example.org'), REPEAT(MD5(g), 4) FROM n;
        CREATE TABLE notes (code varchar(20) PRIMARY KEY, body text);
        INSERT INTO notes WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 3000)
          SELECT CONCAT('c', g), MD5(g) FROM n;
        ANALYZE TABLE wide, notes;
        """

    static func rules(where condition: String? = nil) -> String {
        """
        tables:
          wide:
            \(condition.map { "where: \"\($0)\"" } ?? "")
            columns: { id: keep, email: email, body: keep }
          notes:
            columns: { code: keep, body: keep }
        """
    }

    static let options = RestoreOptions(jobs: 3, splitTablesFromRows: 1000)

    static func checksum(_ scratch: MySQLScratch, _ database: String, where condition: String = "TRUE") throws -> [[String?]] {
        try scratch.rows(database, """
            SELECT COUNT(*), SUM(id), SUM(CRC32(CONCAT(id, ':', body))), BIT_XOR(CRC32(CONCAT(id, ':', body)))
              FROM wide WHERE \(condition)
            """)
    }

    @Test func aLargeTableIsCopiedInKeyRangesWithEveryRowOnce() throws {
        let scratch = try MySQLScratch("myslice")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules())
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore(options: Self.options, observer: observer)

        #expect(observer.phases.contains { $0.contains("reading wide (~") && $0.contains("in 3 slices at once") },
                "\(observer.phases)")
        #expect(!observer.phases.contains { $0.contains("reading notes") }, "a text key is not split")
        let wide = report.tables.filter { $0.name == "wide" }
        #expect(wide.count == 1)
        #expect(wide.first?.rowsRead == 20000 && wide.first?.rowsWritten == 20000)
        #expect(report.rowCountsVerified)
        #expect(try Self.checksum(scratch, "stage") == Self.checksum(scratch, "src"), "every row once, kept bytes intact")
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM wide WHERE email LIKE '%corp.example.org'") == [["0"]])
        #expect(try scratch.rows("stage", "SELECT COUNT(DISTINCT email) FROM wide") == [["20000"]])
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })
    }

    @Test func keyRangesKeepTheWhereCondition() throws {
        let scratch = try MySQLScratch("myslicewhere")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules(where: "id % 2 = 0"))
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore(options: Self.options, observer: observer)
        #expect(observer.phases.contains { $0.contains("in 3 slices at once") })
        #expect(report.tables.first { $0.name == "wide" }?.rowsWritten == 10000)
        #expect(try Self.checksum(scratch, "stage") == Self.checksum(scratch, "src", where: "id % 2 = 0"))
    }

    /// With innodb_autoinc_lock_mode below 2 (MariaDB's default) each LOAD DATA into a table with
    /// an AUTO_INCREMENT column holds the table's AUTO-INC lock to its end, so its slices would
    /// load one after another: such a table is read whole, and the run says why.
    @Test func aTableWhoseLoadsWouldWaitForEachOtherIsReadWhole() throws {
        let scratch = try MySQLScratch("myslicelock")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + """
            ALTER TABLE wide MODIFY id bigint NOT NULL AUTO_INCREMENT;
            """)
        let job = try scratch.job(rules: Self.rules())
        defer { job.remove() }
        let mode = try #require(Int(try scratch.rows("src", "SELECT @@innodb_autoinc_lock_mode").first?.first.flatMap { $0 } ?? ""))
        let observer = RecordingObserver()
        let report = try job.restore(options: Self.options, observer: observer)
        let whole = observer.phases.contains {
            $0.contains("reading wide whole: its AUTO_INCREMENT column id") && $0.contains("innodb_autoinc_lock_mode = \(mode)")
        }
        #expect(whole == (mode < 2), "\(observer.phases)")
        #expect(observer.phases.contains { $0.contains("in 3 slices at once") } == (mode == 2), "\(observer.phases)")
        #expect(try Self.checksum(scratch, "stage") == Self.checksum(scratch, "src"))
        #expect(report.tables.first { $0.name == "wide" }?.rowsWritten == 20000)
    }
}
