import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// TLS against the test server, which scripts/services starts with a certificate for 127.0.0.1
/// and localhost signed by a test CA, and with an account, tls_only, created REQUIRE SSL.
@Suite struct MySQLTLSTests {
    static func url(user: String = "root", host: String? = nil, _ query: String) throws -> ConnectionString {
        let server = try TestServers.mysql()
        let (serverHost, port) = server.primaryHost
        return try ConnectionString("mysql://\(user)@\(host ?? serverHost):\(port ?? 3306)/mysql?\(query)")
    }

    /// The server has to offer TLS; one started by an older scripts/services does not.
    static func requireTLSServer() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql())
        let offered = try connection.scalar("SELECT @@have_ssl")
        try #require(offered == "YES", """
            the MySQL test server runs without TLS: restart it with scripts/services (stop mysql, then start mysql), \
            which starts it with the test CA's certificate
            """)
    }

    static func cipher(_ connection: MySQLConnection) throws -> String {
        try connection.query("SHOW STATUS LIKE 'Ssl_cipher'").first?[1] ?? ""
    }

    static var verified: String {
        get throws { "ssl-mode=VERIFY_IDENTITY&ssl-ca=\(try TestServers.caFile())" }
    }

    @Test func verifiedTLSWithTheRightCAConnectsEncrypted() throws {
        try Self.requireTLSServer()
        let connection = try MySQLConnection(url: try Self.url(try Self.verified))
        #expect(try !Self.cipher(connection).isEmpty)
        // The CA alone (no mode) on loopback means VERIFY_CA: encrypted too.
        let caOnly = try MySQLConnection(url: try Self.url("ssl-ca=\(try TestServers.caFile())"))
        #expect(try !Self.cipher(caOnly).isEmpty)
    }

    @Test func aWrongCAIsAClearError() throws {
        try Self.requireTLSServer()
        for mode in ["VERIFY_IDENTITY", "VERIFY_CA"] {
            #expect {
                try MySQLConnection(url: try Self.url("ssl-mode=\(mode)&ssl-ca=\(try TestServers.otherCAFile())"))
            } throws: { error in
                "\(error)".contains("cannot connect to") && "\(error)".contains("is not signed by the CA given (ssl-ca = ")
                    && (error as? MySQLError)?.code == 2026
            }
        }
    }

    /// The certificate is for 127.0.0.1 and localhost; 127.1 reaches the same server under a
    /// name the certificate does not hold. VERIFY_CA checks the chain only, so it gets in.
    @Test func anotherHostNameFailsVerifyIdentityButNotVerifyCA() throws {
        try Self.requireTLSServer()
        #expect { try MySQLConnection(url: try Self.url(host: "127.1", try Self.verified)) } throws: { error in
            "\(error)".contains("certificate is for another host name")
        }
        let chainOnly = try MySQLConnection(url: try Self.url(host: "127.1", "ssl-mode=VERIFY_CA&ssl-ca=\(try TestServers.caFile())"))
        #expect(try !Self.cipher(chainOnly).isEmpty)
    }

    @Test func plaintextToAnAccountThatRequiresTLSIsAClearError() throws {
        try Self.requireTLSServer()
        #expect { try MySQLConnection(url: try Self.url(user: "tls_only", "ssl-mode=DISABLED")) } throws: { error in
            "\(error)".contains("Access denied") && "\(error)".contains("this connection was not encrypted (ssl-mode=DISABLED)")
                && "\(error)".contains("REQUIRE SSL")
        }
        // Over TLS the same account gets in.
        let connection = try MySQLConnection(url: try Self.url(user: "tls_only", try Self.verified))
        #expect(try connection.scalar("SELECT CURRENT_USER()")?.hasPrefix("tls_only@") == true)
        #expect(try !Self.cipher(connection).isEmpty)
    }

    @Test func disabledMeansPlaintextEvenWhenTheServerOffersTLS() throws {
        try Self.requireTLSServer()
        let connection = try MySQLConnection(url: try Self.url("ssl-mode=DISABLED"))
        #expect(try Self.cipher(connection).isEmpty)
        let preferred = try MySQLConnection(url: try Self.url("ssl-mode=PREFERRED"))
        #expect(try !Self.cipher(preferred).isEmpty)
    }

    /// libmariadb goes on in plaintext when a server offers no TLS, unless the host name is
    /// verified; REQUIRED and VERIFY_CA then refuse the session. Shown on a real unencrypted
    /// session (the test server offers TLS, so the session is made plaintext by DISABLED).
    @Test func requiredRefusesASessionThatIsNotEncrypted() throws {
        let plain = try MySQLConnection(url: try Self.url("ssl-mode=DISABLED"))
        for mode in ["REQUIRED", "VERIFY_CA"] {
            let url = try Self.url("ssl-mode=\(mode)&ssl-ca=/dev/null")
            #expect {
                try MySQLTLS(url: url).checkEncrypted(plain.handle, url: url)
            } throws: { error in
                "\(error)".contains("the server did not offer TLS, which ssl-mode=\(mode) requires")
            }
        }
    }

    /// ssl-cert and ssl-key present a client certificate (here the server's own, which the test
    /// CA signed) to an account created REQUIRE X509.
    @Test func aClientCertificateReachesAnAccountThatRequiresOne() throws {
        try Self.requireTLSServer()
        let scratch = try MySQLScratch("myx509")
        defer { scratch.drop() }
        _ = try scratch.url("db", create: true)
        let account = try scratch.account("x509", suffix: "db", grants: ["SELECT ON `\(scratch.name("db"))`.*"])
        let admin = try MySQLConnection(url: scratch.server, database: .none)
        try admin.query("ALTER USER '\(account.user!)'@'%' REQUIRE X509")
        let folder = URL(fileURLWithPath: try TestServers.caFile()).deletingLastPathComponent().path
        let base = account.raw + "?" + (try Self.verified)
        #expect(throws: MySQLError.self) { try MySQLConnection(url: try ConnectionString(base)) }
        let connection = try MySQLConnection(url: try ConnectionString(base + "&ssl-cert=\(folder)/server.crt&ssl-key=\(folder)/server.key"))
        #expect(try !Self.cipher(connection).isEmpty)
    }

    /// Off loopback the certificate is verified unless the URL says otherwise, with the bundle
    /// from SNAPMASK_CA_FILE; loopback keeps the library's default.
    @Test func offLoopbackTheDefaultIsVerifyIdentityWithTheConfiguredBundle() throws {
        let environment = ["SNAPMASK_CA_FILE": "/etc/ssl/certs/rds-global-bundle.pem"]
        let remote = try MySQLTLS(url: try ConnectionString("mysql://app@app.cluster-ro-x.us-east-1.rds.amazonaws.com/app"),
                                  environment: environment)
        #expect(remote.mode == .verifyIdentity && !remote.modeFromURL)
        #expect(remote.ca == "/etc/ssl/certs/rds-global-bundle.pem" && remote.caOrigin == "SNAPMASK_CA_FILE")
        for local in ["mysql://r@127.0.0.1:3306/a", "mysql://r@localhost/a", "mysql://r@[::1]/a", "mysql://r@/a"] {
            #expect(try MySQLTLS(url: try ConnectionString(local), environment: environment).mode == nil, "\(local)")
        }
        // The URL's own mode and CA win; both spellings and any case are read.
        let own = try MySQLTLS(url: try ConnectionString("mysql://r@db.example.com/a?ssl_mode=verify_ca&ssl-ca=/x/ca.pem"),
                               environment: environment)
        #expect(own.mode == .verifyCA && own.modeFromURL && own.ca == "/x/ca.pem" && own.caOrigin == "ssl-ca")
        let required = try MySQLTLS(url: try ConnectionString("mysql://r@db.example.com/a?ssl-mode=REQUIRED"),
                                    environment: environment)
        #expect(required.mode == .required && required.ca == nil, "the bundle is for verifying modes only")
    }

    @Test func unknownTLSParametersAndModesAreConfigErrors() throws {
        for query in ["ssl-mode=VERIFY_FULL", "sslmode=verify-full", "ssl=true", "ssl-capath=/etc/ssl/certs", "ssl-mode="] {
            #expect(throws: ConfigError.self, "\(query)") {
                try MySQLTLS(url: try ConnectionString("mysql://r:pw@db.example.com/a?\(query)"))
            }
        }
        #expect { try MySQLTLS(url: try ConnectionString("mysql://r@db.example.com/a?ssl-cert=/c.pem")) } throws: { error in
            "\(error)".contains("ssl-cert without ssl-key")
        }
        // A verifying mode without a bundle, and a bundle that is not there, are named before connecting.
        let noBundle = try ConnectionString("mysql://r:Pw0rd@db.example.com/a")
        #expect { try MySQLTLS(url: noBundle, environment: [:]).checkFiles(url: noBundle) } throws: { error in
            "\(error)".contains("no CA bundle is given") && "\(error)".contains("SNAPMASK_CA_FILE")
                && "\(error)".contains("the default off loopback") && !"\(error)".contains("Pw0rd")
        }
        #expect {
            try MySQLConnection(url: try Self.url("ssl-mode=VERIFY_CA&ssl-ca=/nonexistent/ca.pem"))
        } throws: { error in
            error is ConfigError && "\(error)".contains("ssl-ca names /nonexistent/ca.pem")
        }
    }

    @Test func checkWarnsAboutURLsThatTurnVerificationOffAwayFromLoopback() throws {
        let job = try TestJob(engine: .mysql, source: "mysql://reader@prod-db.example.com/app?ssl-mode=REQUIRED",
                              target: "mysql://root@127.0.0.1:3306/app?ssl-mode=DISABLED", rules: "tables: {}\n")
        defer { job.remove() }
        let warnings = MySQLEngine(job: try job.database("app").job).connectionWarnings()
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("the source URL mysql://reader@prod-db.example.com/app?ssl-mode=REQUIRED sets "
                                             + "ssl-mode=REQUIRED: the server's certificate is not verified") == true)

        let invalid = try TestJob(engine: .mysql, source: "mysql://reader@127.0.0.1/app?ssl-mode=ON",
                                  target: "mysql://root@127.0.0.1:3306/stage", rules: "tables: {}\n")
        defer { invalid.remove() }
        #expect(MySQLEngine(job: try invalid.database("app").job).connectionWarnings().first?
                    .contains("the source URL's TLS settings are not valid") == true)
    }
}
