import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// Tables whose every column reads the same from bytes load with `CHARACTER SET binary`, the rest
/// with utf8mb4: either way every kept value arrives byte for byte.
@Suite struct MySQLLoadCharacterSetTests {
    @Test(arguments: ["latin1", "utf8mb3"]) func everyKeptValueArrivesInEitherCharacterSet(lat: String) throws {
        let scratch = try MySQLScratch("myloadcs")
        defer { scratch.drop() }
        let columns = MySQLRestoreTests.keptColumns.replacingOccurrences(of: "CHARACTER SET latin1", with: "CHARACTER SET \(lat)")
        let create = "CREATE TABLE kept (\(columns)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;"
        let sourceSQL = MySQLRestoreTests.sourceSQL
        let start = try #require(sourceSQL.range(of: "CREATE TABLE kept ("))
        let end = try #require(sourceSQL.range(of: "utf8mb4_unicode_ci;", range: start.upperBound..<sourceSQL.endIndex))
        _ = try scratch.url("src", create: true, sql: sourceSQL.replacingCharacters(in: start.lowerBound..<end.upperBound, with: create)
            + """
            CREATE TABLE devices (id int PRIMARY KEY, address inet6, serial uuid, label varchar(40)) CHARSET=utf8mb4;
            INSERT INTO devices VALUES (1, '2001:db8::1', '123e4567-e89b-12d3-a456-426614174000', 'ŝtudio ☕'),
                                       (2, '::ffff:10.0.0.7', NULL, NULL);
            """)
        let rules = MySQLRestoreTests.rules + "\n  devices:\n    columns: { id: keep, address: keep, serial: keep, label: keep }\n"
        let job = try scratch.job(rules: rules)
        defer { job.remove() }
        let report = try job.restore("app", jobs: 2)
        #expect(report.outcome == "swapped" && report.rowCountsVerified)

        let staging = try scratch.connect("stage")
        #expect(try MySQLTarget.loadCharacterSet("kept", on: staging) == (lat == "latin1" ? "utf8mb4" : "binary"))
        #expect(try MySQLTarget.loadCharacterSet("users", on: staging) == "binary", "JSON is text in MariaDB")
        #expect(try MySQLTarget.loadCharacterSet("audit_log", on: staging) == "utf8mb4", "latin1 text")
        #expect(try MySQLTarget.loadCharacterSet("devices", on: staging) == "utf8mb4", "INET6 and UUID take bytes as their binary form")
        #expect(try MySQLTarget.loadCharacterSet("no_such_table", on: staging) == "utf8mb4", "nothing to judge by")

        let sourceKept = try scratch.rows("src", MySQLRestoreTests.keptComparison)
        #expect(sourceKept.count == 3000)
        #expect(sourceKept == (try scratch.rows("stage", MySQLRestoreTests.keptComparison)))
        let devices = "SELECT id, CAST(address AS CHAR), CAST(serial AS CHAR), HEX(label) FROM devices ORDER BY id"
        #expect(try scratch.rows("src", devices) == scratch.rows("stage", devices))
        #expect(try scratch.rows("stage", "SELECT HEX(lat) FROM kept WHERE id = 1")
                    == scratch.rows("src", "SELECT HEX(lat) FROM kept WHERE id = 1"))
        // The masked text went through the binary load too, and no original did.
        let originals = Set(try scratch.rows("src", "SELECT email FROM users").compactMap { $0[0] })
        let staged = try scratch.rows("stage", "SELECT email FROM users").compactMap { $0[0] }
        #expect(staged.count == 500 && originals.isDisjoint(with: staged))
    }

    /// A value that is not UTF-8 cannot slip into a UTF-8 column through the binary load: the
    /// server's check on storing still refuses it, and the table fails.
    @Test func bytesThatAreNotUTF8AreRefusedOnTheBinaryLoad() throws {
        let scratch = try MySQLScratch("myloadbad")
        defer { scratch.drop() }
        let url = try scratch.url("t", create: true, sql: "CREATE TABLE notes (id int PRIMARY KEY, body varchar(20)) CHARSET=utf8mb4;")
        let connection = try MySQLConnection(url: url, localInfile: true)
        try connection.query("SET SESSION sql_mode = '\(MySQLTarget.loadSQLMode)'")
        #expect(try MySQLTarget.loadCharacterSet("notes", on: connection) == "binary")
        let shape = try #require(try MySQLCatalog.schema(connection, database: scratch.name("t")).tables.first)
        let plan = TablePlan(table: shape, rule: nil)
        let writer = try MySQLLoadWriter(connection: connection, plan: plan, characterSet: "binary")
        try writer.write(RowBatch(data: Array("1\tok\n2\tbad ".utf8) + [0xFF, 0xFE, 0x0A], rowCount: 2, firstRow: 0))
        #expect {
            _ = try writer.finish()
        } throws: { "\($0)".contains("Incorrect string value") }
    }
}
