import CMySQL
import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// `auth=iam` for MySQL: a token per connection, the cleartext plugin RDS asks for, and TLS
/// required so the token never travels in clear. The test server's certificate comes from a
/// test CA: without that CA an IAM login must fail before the token is sent; with it the token
/// crosses TLS and the server answers for the (unknown) user.
@Suite struct MySQLIAMTests {
    @Test func iamConnectionsRequireTLSAndGetAFreshToken() throws {
        RecordingTokenIssuer.install()
        let server = try TestServers.mysql()
        let user = TestServers.uniqueName("iam")
        let url = try ConnectionString("mysql://\(user)@\(server.hosts)/mysql?auth=iam")

        let handle = try #require(mysql_init(nil))
        defer { mysql_close(handle) }
        #expect(try MySQLIAM.prepare(handle, for: url) == "iam-token-\(user)-1")
        var enforced: my_bool = 0, verified: my_bool = 0
        #expect(mysql_get_option(handle, MYSQL_OPT_SSL_ENFORCE, &enforced) == 0)
        #expect(mysql_get_option(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verified) == 0)
        #expect(enforced == 1 && verified == 1)

        // Refused by the client during the handshake, before the login packet: the server
        // never sees the token (it would answer "Access denied ... (using password: YES)").
        #expect { try MySQLConnection(url: url) } throws: { error in
            "\(error)".contains("is not signed by the CA given")
                && "\(error)".contains("cannot connect to mysql://\(user)@")
                && !"\(error)".contains("Access denied")
        }
        // With the CA that signed the server's certificate the token reaches the server, over
        // TLS, and the server answers for the user it does not know.
        let trusted = try ConnectionString("mysql://\(user)@\(server.hosts)/mysql?auth=iam&ssl-ca=\(try TestServers.caFile())")
        #expect { try MySQLConnection(url: trusted) } throws: { error in
            "\(error)".contains("Access denied for user '\(user)'")
        }
        let port = server.primaryHost.port ?? 3306
        #expect(RecordingTokenIssuer.shared.calls(user: user).map(\.port) == [port, port, port])
    }

    @Test func theCABundleIsTheConfiguredOneUnlessOneWasChosen() throws {
        RecordingTokenIssuer.install()
        let url = try ConnectionString("mysql://\(TestServers.uniqueName("iam"))@db.cluster-x.us-east-1.rds.amazonaws.com/app?auth=iam")
        let handle = try #require(mysql_init(nil))
        defer { mysql_close(handle) }
        _ = try MySQLIAM.prepare(handle, for: url, environment: ["SNAPMASK_CA_FILE": "/etc/ssl/certs/rds-global-bundle.pem"])
        var ca: UnsafeMutablePointer<CChar>?
        #expect(mysql_get_option(handle, MYSQL_OPT_SSL_CA, &ca) == 0)
        #expect(ca.map { String(cString: $0) } == "/etc/ssl/certs/rds-global-bundle.pem")

        let chosen = try #require(mysql_init(nil))
        defer { mysql_close(chosen) }
        mysql_options(chosen, MYSQL_OPT_SSL_CA, "/etc/other-ca.pem")
        _ = try MySQLIAM.prepare(chosen, for: url, environment: ["SNAPMASK_CA_FILE": "/etc/ssl/certs/rds-global-bundle.pem"])
        var kept: UnsafeMutablePointer<CChar>?
        #expect(mysql_get_option(chosen, MYSQL_OPT_SSL_CA, &kept) == 0)
        #expect(kept.map { String(cString: $0) } == "/etc/other-ca.pem")
    }

    @Test func passwordURLsAreUntouched() throws {
        let handle = try #require(mysql_init(nil))
        defer { mysql_close(handle) }
        let url = try ConnectionString("mysql://app:pw-for-the-test@127.0.0.1:3306/app")
        #expect(try MySQLIAM.prepare(handle, for: url) == "pw-for-the-test")
        var enforced: my_bool = 0
        #expect(mysql_get_option(handle, MYSQL_OPT_SSL_ENFORCE, &enforced) == 0)
        #expect(enforced == 0)
    }
}
