import CLibPQ
import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// `auth=iam` against the test server: a fresh token from the issuer per connection, given to
/// libpq as the password, and TLS even on loopback. (The test server trusts loopback logins, so
/// it does not check the token; the tokens themselves are pinned in SnapmaskAWSTests.)
@Suite struct PostgresIAMTests {
    /// A login role of its own, so the issuer's calls for it are this test's.
    static func withRole(_ body: (ConnectionString, String) throws -> Void) throws {
        RecordingTokenIssuer.install()
        let server = try TestServers.postgres()
        let admin = try PostgresConnection(url: server)
        let role = TestServers.uniqueName("iam")
        try admin.execute("CREATE ROLE \(role) LOGIN")
        defer { _ = try? admin.execute("DROP ROLE IF EXISTS \(role)") }
        try body(try ConnectionString("postgres://\(role)@\(server.hosts)/postgres?auth=iam"), role)
    }

    @Test func eachConnectionLogsInWithAFreshTokenOverTLS() throws {
        try Self.withRole { url, role in
            let first = try PostgresConnection(url: url)
            let second = try PostgresConnection(url: url)
            let calls = RecordingTokenIssuer.shared.calls(user: role)
            #expect(calls.map(\.token) == ["iam-token-\(role)-1", "iam-token-\(role)-2"])
            let (host, port) = url.primaryHost
            #expect(calls.allSatisfy { $0.host == host && $0.port == port })
            #expect(String(cString: PQpass(first.handle)) == "iam-token-\(role)-1")
            #expect(String(cString: PQpass(second.handle)) == "iam-token-\(role)-2")
            for connection in [first, second] {
                #expect(try connection.scalar("SELECT current_user") == role)
                #expect(try connection.scalar("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "true")
            }
        }
    }

    @Test func aURLThatAllowsPlaintextIsRefusedBeforeAnyTokenIsMade() throws {
        try Self.withRole { url, role in
            for mode in ["disable", "allow", "prefer"] {
                let weak = try ConnectionString(url.raw + "&sslmode=\(mode)")
                let error = #expect(throws: ConfigError.self) { try PostgresConnection(url: weak) }
                #expect(error?.message.contains("needs TLS: sslmode=\(mode)") == true, "\(String(describing: error))")
            }
            #expect(RecordingTokenIssuer.shared.calls(user: role).isEmpty)
            // require and the verify modes are kept as given.
            let required = try PostgresConnection(url: try ConnectionString(url.raw + "&sslmode=require"))
            #expect(try required.scalar("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "true")
        }
    }

    @Test func pgDumpGetsItsOwnTokenInItsServiceFile() throws {
        try Self.withRole { url, role in
            let text = try PostgresServiceFile.contents(for: url)
            #expect(text.contains("\npassword=iam-token-\(role)-1\n"), "\(text)")
            #expect(text.contains("\nsslmode=require\n"), "\(text)")
            #expect(!text.contains("auth="), "\(text)")
        }
    }

    @Test func aRefusedTokenSaysWhatToCheck() throws {
        let url = try ConnectionString("postgres://app_iam@db.cluster-x.us-east-1.rds.amazonaws.com/app?auth=iam")
        let advice = try #require(PostgresIAM.advice(for: #"FATAL:  PAM authentication failed for user "app_iam""#, url: url))
        #expect(advice.contains("GRANT rds_iam TO app_iam"))
        #expect(advice.contains("rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/app_iam"))
        #expect(PostgresIAM.advice(for: "FATAL:  PAM authentication failed", url: try ConnectionString("postgres://u:p@db/app")) == nil)
    }
}
