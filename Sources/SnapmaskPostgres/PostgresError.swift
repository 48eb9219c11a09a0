import Foundation
import Snapmask

/// A PostgreSQL failure as libpq reports it, with the SQLSTATE when the server sent one.
/// libpq never puts the password in its messages; connection strings are shown redacted.
public struct PostgresError: ContextualError, Sendable, CustomStringConvertible {
    public var message: String
    public var sqlState: String?
    /// What snapmask was doing (connecting to the source, loading public.users, ...).
    public var context: String?

    public init(_ message: String, sqlState: String? = nil, context: String? = nil) {
        self.message = message
        self.sqlState = sqlState
        self.context = context
    }

    public var description: String {
        var text = context.map { "\($0): " } ?? ""
        text += message.trimmingCharacters(in: .whitespacesAndNewlines)
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

}
