/// A path into a JSON value or a document: `contact.email`, `contact.phones[]`,
/// `items[].email`, `addresses[].lines[]`, `read_by.*.at`. `[]` stands for every element of an
/// array, `*` for every field of an object whose field names are data (a map keyed by user names
/// or phone numbers); a `*` needs a `keys:` rule on the path above it.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case key(String)
        case elements
        /// Any field name (`*`).
        case anyKey
    }

    public let segments: [Segment]
    public let text: String

    public init(_ text: String) throws {
        self.text = text
        var segments: [Segment] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var name = Substring(part)
            var arrays = 0
            while name.hasSuffix("[]") {
                name = name.dropLast(2)
                arrays += 1
            }
            if name.isEmpty && !(segments.isEmpty && arrays > 0) {
                throw ConfigError("'\(text)' is not a valid field path: write names separated by dots, "
                                      + "with [] after a name for the elements of an array (items[].email)")
            }
            if name.contains("[") || name.contains("]") {
                throw ConfigError("'\(text)' is not a valid field path: only [] (all elements) is allowed, not indexes")
            }
            if name == "*" {
                segments.append(.anyKey)
            } else if name.contains("*") {
                throw ConfigError("'\(text)' is not a valid field path: * stands alone for any field name (read_by.*.at), "
                                      + "it is not a pattern")
            } else if !name.isEmpty {
                segments.append(.key(String(name)))
            }
            segments.append(contentsOf: repeatElement(.elements, count: arrays))
        }
        self.segments = segments
    }

    init(segments: [Segment]) {
        self.segments = segments
        text = Self.text(of: segments)
    }

    public var description: String { text }

    /// The path a rule names; the empty name is the top of the value (a json rule's `keys:`).
    static func of(rule name: String) -> FieldPath {
        name.isEmpty ? FieldPath(segments: []) : (try? FieldPath(name)) ?? FieldPath(segments: [.key(name)])
    }

    /// The path one level up (nil for the root).
    public var parent: FieldPath? {
        segments.isEmpty ? nil : FieldPath(segments: Array(segments.dropLast()))
    }

    /// Whether `other` lies inside this path (or is it).
    public func contains(_ other: FieldPath) -> Bool {
        other.segments.count >= segments.count && Array(other.segments.prefix(segments.count)) == segments
    }

    /// Spelled as a rule would name it.
    static func text(of segments: [Segment]) -> String {
        var text = ""
        for segment in segments {
            switch segment {
            case let .key(name):
                if !text.isEmpty { text += "." }
                text += name
            case .anyKey:
                if !text.isEmpty { text += "." }
                text += "*"
            case .elements:
                text += "[]"
            }
        }
        return text
    }
}
