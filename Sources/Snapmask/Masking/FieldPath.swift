/// A path into a JSON value or a document: `contact.email`, `contact.phones[]`,
/// `items[].email`, `addresses[].lines[]`. `[]` stands for every element of an array.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case key(String)
        case elements
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
            if !name.isEmpty { segments.append(.key(String(name))) }
            segments.append(contentsOf: repeatElement(.elements, count: arrays))
        }
        self.segments = segments
    }

    public var description: String { text }

    /// Whether `other` lies inside this path (or is it).
    public func contains(_ other: FieldPath) -> Bool {
        other.segments.count >= segments.count && Array(other.segments.prefix(segments.count)) == segments
    }
}
