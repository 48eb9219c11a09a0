import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// TLS against the test server, which scripts/services gives a certificate signed by a test CA
/// (and a role, tls_only, that it admits over TLS only).
@Suite struct PostgresTLSTests {
    static func url(user: String = "postgres", _ query: String) throws -> ConnectionString {
        let server = try TestServers.postgres()
        return try ConnectionString("postgres://\(user)@\(server.hosts)/postgres?\(query)")
    }

    @Test func verifiedTLSWithTheRightCAConnectsEncrypted() throws {
        let connection = try PostgresConnection(url: try Self.url("sslmode=verify-full&sslrootcert=\(try TestServers.caFile())"))
        #expect(try connection.scalar("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "true")
    }

    @Test func aWrongCAIsAClearError() throws {
        #expect {
            try PostgresConnection(url: try Self.url("sslmode=verify-full&sslrootcert=\(try TestServers.otherCAFile())"))
        } throws: { error in
            "\(error)".contains("certificate verify failed") && "\(error)".contains("is not signed by the CA given")
        }
    }

    @Test func plaintextToAUserThatRequiresTLSIsAClearError() throws {
        #expect { try PostgresConnection(url: try Self.url(user: "tls_only", "sslmode=disable")) } throws: { error in
            "\(error)".contains("accepts this user over TLS only")
        }
        // Over TLS the same user gets in.
        let connection = try PostgresConnection(url: try Self.url(user: "tls_only", "sslmode=verify-full&sslrootcert=\(try TestServers.caFile())"))
        #expect(try connection.scalar("SELECT current_user") == "tls_only")
    }

    /// Off loopback the certificate is verified unless the URL says otherwise; loopback keeps
    /// libpq's default.
    @Test func offLoopbackTheDefaultIsVerifyFullWithTheConfiguredBundle() throws {
        let environment = ["SNAPMASK_CA_FILE": "/etc/ssl/certs/rds-global-bundle.pem"]
        let remote = try ConnectionString("postgres://app@app.cluster-ro-x.us-east-1.rds.amazonaws.com/app")
        #expect(PostgresTLS.defaults(for: remote, environment: environment).map { "\($0.0)=\($0.1)" }
                    == ["sslmode=verify-full", "sslrootcert=/etc/ssl/certs/rds-global-bundle.pem"])
        for local in ["postgres://p@127.0.0.1:5432/a", "postgres://p@localhost/a", "postgres://p@[::1]/a", "postgres://p@/a"] {
            #expect(PostgresTLS.defaults(for: try ConnectionString(local), environment: environment).isEmpty, "\(local)")
        }
        // The URL's own sslmode wins: the defaults come before it.
        #expect(PostgresTLS.isLoopback(try ConnectionString("postgres://p@127.0.0.1,db.example.com/a")) == false)
    }
}
