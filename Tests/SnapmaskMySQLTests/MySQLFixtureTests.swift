import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// The shipped demo: fixtures/mysql/app.sql restored with rules/mysql/app.yaml and
/// rules/overrides/mysql/app.yaml, as `scripts/demo` does.
@Suite struct MySQLFixtureTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theDemoDatabaseRestoresWithTheShippedRulesAndOverrides() throws {
        let scratch = try MySQLScratch("myfixture")
        defer { scratch.drop() }
        let fixture = try String(contentsOf: Self.repository.appendingPathComponent("fixtures/mysql/app.sql"), encoding: .utf8)
        let source = try scratch.url("src", create: true, sql: fixture)
        let target = try scratch.url("stage")
        let job = try TestJob(databases: """
            app:
              engine: mysql
              source: \(source.raw)
              target: \(target.raw)
              rules: \(Self.repository.appendingPathComponent("rules/mysql/app.yaml").path)
              overrides: \(Self.repository.appendingPathComponent("rules/overrides/mysql/app.yaml").path)
            """, files: [:])
        defer { job.remove() }
        let report = try MySQLRestoreTests.restore(job)
        #expect(report.outcome == "swapped")
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 }, "\(report.leakChecks)")
        #expect(report.overrides.count == 5)

        let stage = try scratch.connect("stage")
        let counts = try stage.query("""
            SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM invoices),
                   (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM messages)
            """)
        #expect(counts == [["1001", "1727", "1152", "0", "0", "2000"]])
        #expect(try stage.query("SELECT role, username FROM users WHERE email = 'staging-admin@quikapp.test'")
                    == [["admin", "staging-admin"]])
        #expect(try stage.query("SELECT COUNT(*) FROM webhooks WHERE enabled <> 0 OR url <> 'https://webhooks.invalid/disabled'")
                    == [["0"]])
        #expect(try stage.query("SELECT name, enabled FROM feature_flags WHERE name IN ('new_checkout', 'send_real_emails') ORDER BY name")
                    == [["new_checkout", "1"], ["send_real_emails", "0"]])
        // No original email anywhere, the card's last four kept, binary hashes byte for byte.
        let originals = Set(try scratch.rows("src", "SELECT LOWER(email) FROM users").compactMap { $0[0] })
        let staged = try stage.query("SELECT LOWER(email) FROM users UNION ALL SELECT LOWER(recipient_email) FROM messages")
            .compactMap { $0[0] }
        #expect(originals.isDisjoint(with: staged))
        let card = try stage.query("SELECT card_number FROM orders WHERE id = 1").first?.first ?? nil
        #expect(card?.hasSuffix("1111") == true && card != "4111 1111 1111 1111")
        let hashes = "SELECT id, HEX(avatar_sha256) FROM users WHERE id <= 1000 ORDER BY id"
        #expect(try stage.query(hashes) == scratch.rows("src", hashes))
        // The view, function and trigger work in staging.
        #expect(try stage.query("SELECT COUNT(*) > 0 FROM active_users") == [["1"]])
        #expect(try stage.query("SELECT user_display(2) = (SELECT full_name FROM users WHERE id = 2)") == [["1"]])
        try stage.query("UPDATE orders SET status = 'paid' WHERE id = 2")
        #expect(try stage.query("SELECT updated_at > created_at FROM orders WHERE id = 2") == [["1"]])
    }
}
