/// A MongoDB/DocumentDB failure as libmongoc reports it (domain and code of its bson_error_t).
public struct DocumentDBError: Error, Sendable, CustomStringConvertible {
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
}
