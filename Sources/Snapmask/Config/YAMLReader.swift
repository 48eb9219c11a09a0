import Foundation
import Yams

/// One YAML node with the file it came from: typed accessors that fail with the file, line and
/// column and what was expected, and mappings that refuse unknown keys so a typo is never ignored.
struct YAMLNode {
    let node: Node
    let file: String
    let interpolator: Interpolator

    var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Reads and composes a YAML file; an empty file is an empty mapping.
    static func load(path: String, displayPath: String, interpolator: Interpolator) throws -> YAMLNode {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError("cannot read \(displayPath): \(Self.reason(error)); check the path and permissions")
        }
        return try parse(text, file: displayPath, interpolator: interpolator)
    }

    static func parse(_ text: String, file: String, interpolator: Interpolator) throws -> YAMLNode {
        do {
            let root = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLNode(node: root, file: file, interpolator: interpolator)
        } catch let error as YamlError {
            throw Self.convert(error, file: file, text: text)
        } catch {
            throw ConfigError("\(file): not valid YAML")
        }
    }

    /// Converts a Yams error without its `yaml` text: a message must never quote the file, which
    /// may hold a literal password or masking key.
    private static func convert(_ error: YamlError, file: String, text: String) -> ConfigError {
        switch error {
        case let .duplicatedKeysInMapping(duplicates, context):
            let key = duplicates.first ?? ""
            let line = secondOccurrence(of: key, after: context.mark, in: text) ?? context.mark.line
            return ConfigError("'\(key)' appears twice in this mapping (first at line \(context.mark.line)); keep one",
                               at: SourceLocation(file: file, line: line, column: context.mark.column))
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return ConfigError("not valid YAML: \(detail)",
                               at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case let .reader(problem, _, _, _):
            return ConfigError("\(file): cannot be read as UTF-8 YAML: \(problem)")
        default:
            return ConfigError("\(file): not valid YAML")
        }
    }

    /// Yams reports where a duplicated key first appears; the line to fix is the later one,
    /// at the same indentation.
    private static func secondOccurrence(of key: String, after first: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1 else { return nil }
        for index in first.line..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " }.count
            guard indent == first.column - 1 else { continue }
            let body = line.dropFirst(indent)
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(spelling + ":") {
                return index + 1
            }
        }
        return nil
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           let text = String(validatingCString: strerror(Int32(underlying.code))), underlying.domain == NSPOSIXErrorDomain {
            return text
        }
        if nsError.domain == NSCocoaErrorDomain && nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        return nsError.localizedDescription
    }

    func error(_ message: String) -> ConfigError { ConfigError(message, at: location) }

    // MARK: Kinds

    var isNull: Bool {
        if case let .scalar(scalar) = node { return !scalar.string.isEmpty && tagName == Tag.Name.null.rawValue }
        return false
    }

    /// A plain scalar with nothing after the colon (`key:`): almost always a mistake worth naming.
    var isEmpty: Bool {
        if case let .scalar(scalar) = node { return scalar.string.isEmpty && scalar.style == .plain }
        return false
    }

    /// The YAML type after implicit resolution (`tag:yaml.org,2002:null`, `...:int`, ...).
    private var tagName: String { node.tag.description }

    var isScalar: Bool { if case .scalar = node { return true } else { return false } }
    var isMapping: Bool { if case .mapping = node { return true } else { return false } }
    var isSequence: Bool { if case .sequence = node { return true } else { return false } }

    private var kindName: String {
        switch node {
        case .scalar:
            guard let value = rawScalar, !isEmpty else { return "nothing" }
            // A URL may carry a password: it is shown redacted, whatever was expected there.
            if value.contains("://") { return "the URL '\(ConnectionString.redact(value))'" }
            return "the value '\(value)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    var rawScalar: String? {
        if case let .scalar(scalar) = node { return scalar.string }
        return nil
    }

    // MARK: Scalars

    /// A string scalar with `${VAR}` expanded.
    func string(_ what: String) throws -> String {
        guard case let .scalar(scalar) = node, !isEmpty else {
            throw error("expected \(what), found \(kindName)")
        }
        return try interpolator.expand(scalar.string, at: location)
    }

    func bool(_ what: String) throws -> Bool {
        switch try string(what).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected \(what) (true or false), found \(kindName)")
        }
    }

    func int(_ what: String) throws -> Int {
        let text = try string(what)
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected \(what) (a whole number), found \(kindName)")
        }
        return value
    }

    /// Any YAML value as a typed `ConfigValue`, strings interpolated.
    func value() throws -> ConfigValue {
        switch node {
        case let .scalar(scalar):
            if isEmpty || isNull { return .null }
            if scalar.style != .plain { return .string(try string("a value")) }
            switch tagName {
            case Tag.Name.bool.rawValue: return .bool(try bool("a boolean"))
            case Tag.Name.int.rawValue:
                if let v = Int64(scalar.string.replacingOccurrences(of: "_", with: "")) { return .int(v) }
            case Tag.Name.float.rawValue:
                if let v = Double(scalar.string) { return .double(v) }
            default: break
            }
            return .string(try string("a value"))
        case .sequence:
            var items: [ConfigValue] = []
            for item in try sequence("a list") { items.append(try item.value()) }
            return .array(items)
        case .mapping:
            var pairs: [(String, ConfigValue)] = []
            for entry in try entries("a mapping") { pairs.append((entry.key, try entry.value.value())) }
            return .object(pairs)
        case .alias:
            throw error("YAML aliases (*name) are not supported here; write the value out")
        }
    }

    // MARK: Collections

    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var value: YAMLNode
    }

    func sequence(_ what: String) throws -> [YAMLNode] {
        guard case let .sequence(sequence) = node else { throw error("expected \(what) (a YAML list), found \(kindName)") }
        return sequence.map { YAMLNode(node: $0, file: file, interpolator: interpolator) }
    }

    /// A mapping's entries in file order; duplicate keys are an error (YAML would keep one silently).
    func entries(_ what: String) throws -> [Entry] {
        guard case let .mapping(mapping) = node else { throw error("expected \(what) (a YAML mapping), found \(kindName)") }
        var seen: [String: SourceLocation] = [:]
        var result: [Entry] = []
        for (keyNode, valueNode) in mapping {
            let key = YAMLNode(node: keyNode, file: file, interpolator: interpolator)
            guard case let .scalar(scalar) = keyNode else { throw key.error("expected a key (a plain name), found \(key.kindName)") }
            if let first = seen[scalar.string] {
                throw key.error("'\(scalar.string)' appears twice in this mapping (first at line \(first.line)); keep one")
            }
            seen[scalar.string] = key.location
            result.append(Entry(key: scalar.string, keyLocation: key.location,
                                value: YAMLNode(node: valueNode, file: file, interpolator: interpolator)))
        }
        return result
    }

    /// A mapping whose keys must come from `allowed`; an unknown key is reported with the closest
    /// allowed spelling.
    func fields(_ what: String, allowed: [String]) throws -> Fields {
        let list = try entries(what)
        for entry in list where !allowed.contains(entry.key) {
            throw ConfigError(Self.unknownKeyMessage(entry.key, in: what, allowed: allowed), at: entry.keyLocation)
        }
        return Fields(entries: list, owner: self, what: what)
    }

    static func unknownKeyMessage(_ key: String, in what: String, allowed: [String]) -> String {
        var message = "unknown key '\(key)' in \(what)"
        if let suggestion = Spelling.closest(to: key, among: allowed) {
            message += "; did you mean '\(suggestion)'?"
        }
        return message + " Allowed keys: \(allowed.joined(separator: ", "))."
    }

    struct Fields {
        var entries: [Entry]
        var owner: YAMLNode
        var what: String

        subscript(key: String) -> YAMLNode? { entries.first { $0.key == key }?.value }

        func required(_ key: String) throws -> YAMLNode {
            guard let value = self[key] else { throw owner.error("\(what) needs '\(key):'") }
            return value
        }
    }
}

/// Suggests the closest known word for a misspelled one (`trasnform` → `transform`).
enum Spelling {
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    /// Damerau-Levenshtein (optimal string alignment), so swapped letters count once.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
