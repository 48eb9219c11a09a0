import Snapmask

/// A MongoDB/DocumentDB failure as libmongoc reports it (domain and code of its bson_error_t).
/// libmongoc never puts the password in its messages; URLs are shown redacted.
public struct DocumentDBError: ContextualError, Sendable, CustomStringConvertible {
    public var message: String
    public var domain: UInt32
    public var code: UInt32
    public var context: String?

    public init(_ message: String, domain: UInt32 = 0, code: UInt32 = 0, context: String? = nil) {
        self.message = message
        self.domain = domain
        self.code = code
        self.context = context
    }

    public var description: String {
        var text = context.map { "\($0): " } ?? ""
        text += message
        if code != 0 { text += " (code \(code))" }
        return text
    }


    /// The server refused a query (bad operator, bad value): a `filter:` problem, not a lost connection.
    var isQueryError: Bool { [2, 9, 14, 17287, 51091].contains(code) }

    /// E11000: a unique index refused a document.
    var isDuplicateKey: Bool { code == 11000 || code == 11001 }

    /// The server does not know the command (the test server lacks some).
    var isUnsupportedCommand: Bool {
        code == 59 || code == 115 || message.contains("unsupported") || message.contains("no such command")
    }
}
