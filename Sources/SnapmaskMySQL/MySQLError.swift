/// A MySQL/MariaDB failure as libmysqlclient reports it (error number and SQLSTATE).
public struct MySQLError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var code: UInt32
    public var sqlState: String?
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

    func adding(context: String) -> MySQLError {
        var copy = self
        copy.context = self.context.map { "\(context): \($0)" } ?? context
        return copy
    }
}
