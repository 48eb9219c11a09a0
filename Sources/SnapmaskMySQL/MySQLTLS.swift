import CMySQL
import Foundation
import Snapmask

/// TLS for MySQL connections, from the URL's `ssl-mode`, `ssl-ca`, `ssl-cert` and `ssl-key` (the
/// mysql client's names and modes). Off loopback a connection verifies the server unless the URL
/// says otherwise: the mode defaults to VERIFY_IDENTITY (encrypted, the certificate signed by a
/// trusted CA, the host name matching) with the CA bundle in `SNAPMASK_CA_FILE` (the image points
/// it at the RDS bundle) unless the URL names one. On loopback the client library's default
/// stays, as libpq's does for PostgreSQL.
///
/// libmariadb 3.3 (Debian's libmysqlclient) has no ssl-mode of its own; the modes map to
/// `MYSQL_OPT_SSL_ENFORCE` (try TLS), `MYSQL_OPT_SSL_CA` (a CA given is always checked against:
/// the library then verifies the certificate chain) and `MYSQL_OPT_SSL_VERIFY_SERVER_CERT` (host
/// name, and a server without TLS refused during the handshake).
struct MySQLTLS: Sendable, Equatable {
    enum Mode: String, Sendable, CaseIterable {
        case disabled = "DISABLED"
        case preferred = "PREFERRED"
        case required = "REQUIRED"
        case verifyCA = "VERIFY_CA"
        case verifyIdentity = "VERIFY_IDENTITY"

        /// The session must end up encrypted, or it is refused.
        var requiresEncryption: Bool { [.required, .verifyCA, .verifyIdentity].contains(self) }
        /// The server's certificate must be signed by a CA snapmask was given.
        var verifiesCertificate: Bool { self == .verifyCA || self == .verifyIdentity }
    }

    static let caFileVariable = "SNAPMASK_CA_FILE"
    static let parameters = ["ssl-mode", "ssl-ca", "ssl-cert", "ssl-key"]
    static let rdsBundle = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

    /// nil: the URL asks for nothing and the host is loopback: the library's default.
    var mode: Mode?
    /// Whether `mode` is the URL's own (not the default off loopback).
    var modeFromURL = false
    var ca: String?
    /// Where `ca` came from, for messages: `ssl-ca` or `SNAPMASK_CA_FILE`.
    var caOrigin: String?
    var cert: String?
    var key: String?

    /// Reads the URL's TLS parameters; a parameter or mode snapmask does not know is a
    /// configuration error, since ignoring it could leave a session less protected than the
    /// job file says.
    init(url: ConnectionString, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var given: [String: String] = [:]
        for (name, value) in url.query {
            // ssl_mode and ssl-mode alike (both spellings are in use); anything else starting
            // with "ssl" (sslmode, ssl=true, ssl-capath) is a mistake worth stopping for.
            let normalized = name.lowercased().replacingOccurrences(of: "_", with: "-")
            guard normalized.hasPrefix("ssl") else { continue }
            guard Self.parameters.contains(normalized) else {
                throw ConfigError("the URL \(url) has the parameter \(name), which snapmask does not know; the TLS "
                                      + "parameters of a MySQL URL are " + Self.parameters.joined(separator: ", ")
                                      + " (ssl-mode=" + Mode.allCases.map(\.rawValue).joined(separator: "|") + ")")
            }
            guard !value.isEmpty else { throw ConfigError("the URL \(url) gives \(name) without a value") }
            given[normalized] = value
        }
        if let text = given["ssl-mode"] {
            let spelled = text.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let mode = Mode(rawValue: spelled) else {
                throw ConfigError("the URL \(url) sets ssl-mode=\(text); it must be one of "
                                      + Mode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.mode = mode
            modeFromURL = true
        } else if !Self.isLoopback(url) {
            mode = .verifyIdentity
        } else if given["ssl-ca"] != nil {
            // A CA named without a mode is there to be checked against (as the mysql client does).
            mode = .verifyCA
        }
        if let file = given["ssl-ca"] {
            ca = file
            caOrigin = "ssl-ca"
        } else if mode?.verifiesCertificate == true, let file = environment[Self.caFileVariable], !file.isEmpty {
            ca = file
            caOrigin = Self.caFileVariable
        }
        cert = given["ssl-cert"]
        key = given["ssl-key"]
        if (cert == nil) != (key == nil) {
            throw ConfigError("the URL \(url) gives \(cert == nil ? "ssl-key without ssl-cert" : "ssl-cert without ssl-key"); "
                                  + "a client certificate needs both")
        }
    }

    /// The files named exist, and a verifying mode has a CA to verify with: checked before
    /// connecting (not when the URL is read, so `check --offline` works on another machine).
    func checkFiles(url: ConnectionString) throws {
        if mode == .disabled { return }
        for (origin, file) in [(caOrigin ?? "ssl-ca", ca), ("ssl-cert", cert), ("ssl-key", key)] {
            guard let file else { continue }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigError("\(origin) names \(file) (for \(url)), which does not exist or cannot be read")
            }
        }
        if let mode, mode.verifiesCertificate, ca == nil {
            // libmariadb would fall back to the system's store, which holds no RDS CA: better to
            // say what is missing than to fail later with "self-signed certificate in chain".
            throw ConfigError("snapmask verifies the server's certificate for \(url) (ssl-mode=\(mode.rawValue)"
                                  + (modeFromURL ? "" : ", the default off loopback") + ") but no CA bundle is given: add "
                                  + "ssl-ca=FILE to the URL or set \(Self.caFileVariable) (for RDS and Aurora: the RDS "
                                  + "global bundle, \(Self.rdsBundle))")
        }
    }

    static func isLoopback(_ url: ConnectionString) -> Bool {
        url.hosts.split(separator: ",").allSatisfy { entry in
            let host = ConnectionString.hostAndPort(String(entry)).host.lowercased()
            return host.isEmpty || host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// Sets the options on a handle not yet connected.
    func apply(to handle: UnsafeMutablePointer<MYSQL>) throws {
        guard let mode else { return }
        // Both set either way: a later libmariadb (3.4) tries and verifies TLS by default, so
        // DISABLED has to say no explicitly.
        var enforce: my_bool = mode == .disabled ? 0 : 1
        var verifyHost: my_bool = mode == .verifyIdentity ? 1 : 0
        var failed = mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &enforce) != 0
        failed = mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verifyHost) != 0 || failed
        if mode != .disabled {
            if let ca { failed = mysql_options(handle, MYSQL_OPT_SSL_CA, ca) != 0 || failed }
            if let cert, let key {
                failed = mysql_options(handle, MYSQL_OPT_SSL_CERT, cert) != 0 || failed
                failed = mysql_options(handle, MYSQL_OPT_SSL_KEY, key) != 0 || failed
            }
        }
        if failed { throw MySQLError("the client library refused the TLS options (ssl-mode=\(mode.rawValue))") }
    }

    /// libmariadb 3.3 goes on without TLS when the server offers none, unless the host name is
    /// verified: REQUIRED and VERIFY_CA are held to their word here, before the session is used.
    func checkEncrypted(_ handle: UnsafeMutablePointer<MYSQL>, url: ConnectionString) throws {
        guard let mode, mode.requiresEncryption, mysql_get_ssl_cipher(handle) == nil else { return }
        throw MySQLError("the server did not offer TLS, which ssl-mode=\(mode.rawValue)"
                             + (modeFromURL ? "" : " (the default off loopback)") + " requires; nothing was sent over "
                             + "the connection. Enable TLS on the server (have_ssl), or on a network you trust set "
                             + "ssl-mode=PREFERRED or DISABLED in the URL", context: "cannot connect to \(url)")
    }

    /// The library's message for a refused connection, with what to do when TLS was the reason.
    func explained(_ message: String, code: UInt32) -> String {
        advice(code: code, message: message).map { "\(message); \($0)" } ?? message
    }

    /// What to do about a connection refused for a TLS (or authentication plugin) reason, in a
    /// DBA's words (nil: neither).
    func advice(code: UInt32, message: String) -> String? {
        let ca = self.ca.map { " (\(caOrigin ?? "ssl-ca") = \($0))" } ?? ""
        if message.contains("Validation of SSL server certificate failed") {
            return "the server's certificate is for another host name: connect by the name in the certificate (the "
                + "cluster or instance endpoint, not an IP address); through a tunnel to 127.0.0.1, use ssl-mode=VERIFY_CA"
        }
        if ["certificate verify failed", "self-signed certificate", "self signed certificate", "unable to get local issuer",
            "unable to get issuer", "certificate has expired", "unknown ca"].contains(where: { message.contains($0) }) {
            return "the server's certificate is not signed by the CA given\(ca): check that bundle (for RDS and Aurora: "
                + "the RDS global bundle, \(Self.rdsBundle)), or that this is the server you meant"
        }
        if message.contains("SSL is required, but the server does not support it") {
            return "the server does not offer TLS: enable it on the server, or on a network you trust set "
                + "ssl-mode=PREFERRED or DISABLED in the URL"
        }
        if code == 3159 || message.contains("insecure transport") {
            return "the server accepts connections over TLS only (require_secure_transport = ON): remove ssl-mode=DISABLED "
                + "from the URL (or set ssl-mode=VERIFY_IDENTITY)"
        }
        if message.contains("Couldn't read RSA public key") || message.contains("requires secure connection") {
            return "the account authenticates with caching_sha2_password (MySQL 8's default), whose password exchange "
                + "needs TLS or the server's RSA key: connect over TLS (ssl-mode=REQUIRED or VERIFY_IDENTITY)"
        }
        if code == 2059 {
            return "the client library cannot load the authentication plugin the account uses (libmariadb keeps "
                + "caching_sha2_password, MySQL 8's default, in its plugin folder, installed with the libmariadb3 package)"
        }
        // The server answers "access denied" to an account created REQUIRE SSL that comes without
        // TLS, exactly as to a wrong password: name the possibility when TLS was off.
        if code == 1045, mode == nil || mode == .disabled {
            return "this connection was not encrypted (ssl-mode=\(mode?.rawValue ?? "not set")): if the account must "
                + "connect over TLS (created REQUIRE SSL or REQUIRE X509), set ssl-mode=REQUIRED or VERIFY_IDENTITY; "
                + "otherwise check the user name and password"
        }
        return nil
    }

    /// A URL that turns verification off away from loopback (for `check`).
    static func warning(role: String, url: ConnectionString) -> String? {
        let mode: Mode?
        do {
            mode = try MySQLTLS(url: url).mode
        } catch {
            return "the \(role) URL's TLS settings are not valid: \(error)"
        }
        guard !isLoopback(url), let mode, !mode.verifiesCertificate else { return nil }
        return "the \(role) URL \(url) sets ssl-mode=\(mode.rawValue): the server's certificate is not verified "
            + "(use VERIFY_IDENTITY with ssl-ca, the default)"
    }
}
