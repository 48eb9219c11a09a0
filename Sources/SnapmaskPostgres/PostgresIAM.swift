import Foundation
import Snapmask

/// IAM database authentication for PostgreSQL (RDS, Aurora): a fresh token per connection as
/// the password, over TLS only (a token is a password for 15 minutes).
enum PostgresIAM {
    /// The URL's `sslmode` may make TLS stricter, never optional: `disable`, `allow` and `prefer`
    /// could send the token in clear.
    static func check(_ url: ConnectionString) throws {
        guard url.authentication == .iam, let mode = url.queryValue("sslmode")?.lowercased(),
              ["disable", "allow", "prefer"].contains(mode) else { return }
        throw ConfigError("\(url): IAM authentication sends its token as the password, so it needs TLS: sslmode=\(mode) "
                              + "could send it in clear; use sslmode=verify-full (the default off loopback) or require")
    }

    /// What to do when the server refused a token, in a DBA's words.
    static func advice(for message: String, url: ConnectionString) -> String? {
        guard url.authentication == .iam, message.contains("PAM authentication failed") || message.contains("password authentication failed")
        else { return nil }
        let user = url.user ?? "USER"
        return "the server refused the IAM token for \(user): the user must be granted rds_iam (GRANT rds_iam TO \(user)), "
            + "the AWS role must be allowed rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/\(user) "
            + "(RESOURCE_ID is the cluster's or instance's resource id, cluster-… or db-…), and the token is signed for the "
            + "region in the host name (or AWS_REGION)"
    }
}
