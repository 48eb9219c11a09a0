import Foundation
import Snapmask

/// The IAM token issuer of the tests: hands out `iam-token-<user>-<n>` and records every call,
/// so a test can count the tokens a connection asked for. One for the whole test process (the
/// issuer is process-wide and test targets run side by side): tests tell their calls apart by
/// using a user name of their own.
public final class RecordingTokenIssuer: DatabaseTokenIssuer, @unchecked Sendable {
    public struct Call: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var token: String
    }

    public static let shared = RecordingTokenIssuer()

    /// Installs the shared issuer (idempotent).
    public static func install() {
        DatabaseTokens.install(shared)
    }

    private let lock = NSLock()
    private var recorded: [Call] = []

    public func token(host: String, port: Int, user: String) throws -> String {
        lock.withLock {
            let token = "iam-token-\(user)-\(recorded.filter { $0.user == user }.count + 1)"
            recorded.append(Call(host: host, port: port, user: user, token: token))
            return token
        }
    }

    public func calls(user: String) -> [Call] {
        lock.withLock { recorded.filter { $0.user == user } }
    }
}
