import Foundation
import Snapmask

/// A MySQL/MariaDB failure as libmysqlclient reports it (error number and SQLSTATE).
/// libmysqlclient never puts the password in its messages; URLs are shown redacted.
public struct MySQLError: ContextualError, Sendable, CustomStringConvertible {
    public var message: String
    public var code: UInt32
    public var sqlState: String?
    /// What snapmask was doing (connecting to the source, loading users, ...).
    public var context: String?

    public init(_ message: String, code: UInt32 = 0, sqlState: String? = nil, context: String? = nil) {
        self.message = message
        self.code = code
        self.sqlState = sqlState
        self.context = context
    }

    public var description: String {
        var text = context.map { "\($0): " } ?? ""
        text += message
        if code != 0 { text += " (error \(code)\(sqlState.map { ", SQLSTATE \($0)" } ?? ""))" }
        return text
    }

    /// The user lacks a privilege (global, database, table or column).
    var isAccessDenied: Bool { [1044, 1045, 1142, 1143, 1227, 1370].contains(code) }

    /// A lock could not be had within lock_wait_timeout.
    var isLockTimeout: Bool { code == 1205 }

    /// The client lost its connection (CR_SERVER_GONE_ERROR, CR_SERVER_LOST, and the like).
    var isConnectionLost: Bool { [2006, 2013, 2055].contains(code) }
}

/// Quoting for MySQL identifiers, so names from rules and catalogs never change the meaning of
/// a statement.
enum MySQLIdentifier {
    static func quoted(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    static func qualified(_ database: String, _ table: String) -> String {
        quoted(database) + "." + quoted(table)
    }

    /// A name of at most 64 characters (MySQL's identifier limit) ending in `suffix`.
    static func derived(_ name: String, suffix: String) -> String {
        String(name.prefix(64 - suffix.count)) + suffix
    }
}

extension ConnectionString {
    /// The database a MySQL URL names (its path): every URL snapmask reads or restores must name
    /// one. `role` (source, target) is for the error.
    func mysqlDatabase(_ role: String) throws -> String {
        guard let database else { throw MySQLError("the \(role) URL \(self) names no database; end it with /DATABASE") }
        return database
    }
}
