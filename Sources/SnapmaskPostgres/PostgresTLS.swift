import Foundation
import Snapmask

/// TLS for PostgreSQL connections. Off loopback, a connection verifies the server: `sslmode`
/// defaults to `verify-full` (encrypted, the certificate signed by a trusted CA, the host name
/// matching), with the CA bundle in `SNAPMASK_CA_FILE` (the image points it at the RDS bundle)
/// unless the URL names one (`sslrootcert=`). The URL can always say otherwise (`sslmode=require`,
/// `disable`); on loopback libpq's own default (`prefer`) stays.
enum PostgresTLS {
    static let caFileVariable = "SNAPMASK_CA_FILE"

    /// Keywords placed before the URL in PQconnectdbParams, so any the URL gives win.
    /// With IAM authentication, loopback too gets TLS (`require`): the token is a password.
    static func defaults(for url: ConnectionString,
                         environment: [String: String] = ProcessInfo.processInfo.environment) -> [(String, String)] {
        guard !isLoopback(url) else { return url.authentication == .iam ? [("sslmode", "require")] : [] }
        var keywords = [("sslmode", "verify-full")]
        if let file = environment[caFileVariable], !file.isEmpty { keywords.append(("sslrootcert", file)) }
        return keywords
    }

    static func isLoopback(_ url: ConnectionString) -> Bool {
        url.hosts.split(separator: ",").allSatisfy { entry in
            let host = ConnectionString.hostAndPort(String(entry)).host.lowercased()
            return host.isEmpty || host.hasPrefix("/") || host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// What to do about a connection refused for a TLS reason, in a DBA's words.
    static func advice(for message: String) -> String? {
        if message.contains("root certificate file") && message.contains("does not exist") {
            return "snapmask verifies the server's certificate off loopback (sslmode=verify-full): give the CA bundle with "
                + "sslrootcert=FILE in the URL or \(caFileVariable) (for RDS and Aurora: the RDS global bundle, "
                + "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)"
        }
        if message.contains("certificate verify failed") {
            return "the server's certificate is not signed by the CA given (sslrootcert or \(caFileVariable)): check "
                + "that bundle, or that this is the server you meant"
        }
        if message.contains("does not match host name") || message.contains("server certificate for") {
            return "the server's certificate is for another host name: connect by the name in the certificate "
                + "(the cluster endpoint, not an IP address)"
        }
        if message.contains("no encryption") || message.contains("SSL off") {
            return "the server accepts this user over TLS only: drop sslmode=disable from the URL"
        }
        return nil
    }
}
