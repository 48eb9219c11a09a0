import CMySQL
import Foundation
import Snapmask

/// IAM database authentication for MySQL (RDS, Aurora MySQL): the server's
/// AWSAuthenticationPlugin asks the client for the password in clear (the `mysql_clear_password`
/// plugin, which libmysqlclient offers only when told to), so the connection must be TLS to the
/// right server: the token is a password for 15 minutes.
enum MySQLIAM {
    static let caFileVariable = "SNAPMASK_CA_FILE"

    /// Sets up `handle` for the URL's way of logging in and returns the password to connect with:
    /// the URL's, or a token made now (with the cleartext plugin enabled and a verified TLS
    /// connection required).
    static func prepare(_ handle: UnsafeMutablePointer<MYSQL>, for url: ConnectionString,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard url.authentication == .iam else { return url.password }
        var yes: my_bool = 1
        mysql_options(handle, MYSQL_ENABLE_CLEARTEXT_PLUGIN, &yes)
        // MariaDB Connector/C goes on in plaintext when the server offers no TLS, even with
        // MYSQL_OPT_SSL_ENFORCE, unless the server's certificate must be verified: verification
        // is what makes it refuse, and what keeps the token from an impostor. Both only raise
        // what was set before; a CA chosen before is kept, else the one snapmask verifies
        // PostgreSQL with (SNAPMASK_CA_FILE: the RDS bundle in the image).
        mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes)
        mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes)
        var ca: UnsafeMutablePointer<CChar>?
        if mysql_get_option(handle, MYSQL_OPT_SSL_CA, &ca) != 0 || ca == nil,
           let file = environment[caFileVariable], !file.isEmpty {
            mysql_options(handle, MYSQL_OPT_SSL_CA, file)
        }
        return try url.passwordForNewConnection()
    }
}
