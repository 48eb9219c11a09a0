/// One staging override: a declarative update, or an SQL file run as it is.
public enum OverrideStep: Sendable {
    case update(OverrideUpdate)
    case sql(OverrideSQL)

    public var location: SourceLocation {
        switch self {
        case let .update(update): return update.location
        case let .sql(sql): return sql.location
        }
    }

    /// A short name for logs and reports.
    public var title: String {
        switch self {
        case let .update(update): return update.name ?? "set \(update.assignments.map(\.column).joined(separator: ", ")) on \(update.target)"
        case let .sql(sql): return sql.name ?? "sql \(sql.path)"
        }
    }
}

/// `- table: public.users` / `set: { password_hash: '...' }` / `where: "role <> 'admin'"`
/// (or `collection:` and `filter:` for DocumentDB).
public struct OverrideUpdate: Sendable {
    public var name: String?
    /// `public.users` (SQL) or `devices` (DocumentDB).
    public var target: String
    public var isCollection: Bool
    /// In file order. A value `{ sql: "now()" }` is an SQL expression; anything else a literal.
    public var assignments: [(column: String, value: ConfigValue)]
    public var whereClause: String?
    public var filter: ConfigValue?
    public var location: SourceLocation
}

/// `- sql: sql/staging_admin.sql`, read when the job file is loaded.
public struct OverrideSQL: Sendable {
    public var name: String?
    public var path: String
    public var text: String
    public var location: SourceLocation
}

/// An override file: steps applied in order to the shadow copy before it becomes staging.
public struct OverrideList: Sendable {
    public var path: String?
    public var steps: [OverrideStep]

    public init(path: String? = nil, steps: [OverrideStep] = []) {
        self.path = path
        self.steps = steps
    }

    /// `sourceVariables`: the variables the job file's source URLs use (name → database), which
    /// an override may not expand.
    public static func load(path: String, displayPath: String, environment: [String: String],
                            sourceVariables: [String: String] = [:],
                            readFile: (String) throws -> String) throws -> OverrideList {
        let root: YAMLNode
        do {
            root = try YAMLNode.load(path: path, displayPath: displayPath,
                                     interpolator: .overrides(environment: environment, sourceVariables: sourceVariables))
        } catch { throw error }
        let directory = FilePaths.directory(of: path)
        let displayDirectory = FilePaths.directory(of: displayPath)
        var errors = ConfigErrors()
        var steps: [OverrideStep] = []
        var items: [YAMLNode] = []
        do {
            let isEmptyFile = root.isMapping && (try? root.entries("an override file"))?.isEmpty == true
            if !isEmptyFile { items = try root.sequence("an override file") }
        } catch let error as ConfigError {
            throw ConfigErrors([ConfigError(error.message + " — an override file is a list of steps: "
                                                + "- { table: T, set: { column: value }, where: condition } or - { sql: file.sql }",
                                            at: error.location)])
        }
        for item in items {
            errors.collect {
                steps.append(try parseStep(item, directory: directory, displayDirectory: displayDirectory, readFile: readFile))
            }
        }
        try errors.throwIfAny()
        return OverrideList(path: displayPath, steps: steps)
    }

    private static func parseStep(_ node: YAMLNode, directory: String, displayDirectory: String,
                                  readFile: (String) throws -> String) throws -> OverrideStep {
        let fields = try node.fields("an override step", allowed: ["name", "table", "collection", "set", "where", "filter", "sql"])
        let name = try fields["name"]?.string("a name for the step")
        if let sqlNode = fields["sql"] {
            for key in ["table", "collection", "set", "where", "filter"] where fields[key] != nil {
                throw node.error("an override step is either sql: FILE or table:/collection: with set:, not both ('\(key)' found)")
            }
            let relative = try sqlNode.string("the path of an SQL file")
            let full = FilePaths.resolve(relative, against: directory)
            let text: String
            do {
                text = try readFile(full)
            } catch {
                throw sqlNode.error("cannot read SQL file \(FilePaths.resolve(relative, against: displayDirectory)); "
                                        + "paths are relative to the override file")
            }
            return .sql(OverrideSQL(name: name, path: relative, text: text, location: node.location))
        }
        let target: String
        let isCollection: Bool
        switch (fields["table"], fields["collection"]) {
        case let (table?, nil): target = try table.string("a table name"); isCollection = false
        case let (nil, collection?): target = try collection.string("a collection name"); isCollection = true
        default: throw node.error("an override step needs exactly one of table:, collection: or sql:")
        }
        if isCollection, let condition = fields["where"] {
            throw condition.error("where: is for SQL tables; a collection step uses filter: { field: value }")
        }
        if !isCollection, let filter = fields["filter"] {
            throw filter.error("filter: is for DocumentDB collections; a table step uses where: \"SQL condition\"")
        }
        let setNode = try fields.required("set")
        var assignments: [(column: String, value: ConfigValue)] = []
        for entry in try setNode.entries("set: (column: value, ...)") {
            assignments.append((entry.key, try entry.value.value()))
        }
        guard !assignments.isEmpty else { throw setNode.error("set: needs at least one column: value") }
        var filter: ConfigValue?
        if let filterNode = fields["filter"] {
            guard filterNode.isMapping else { throw filterNode.error("filter must be a query document, e.g. { platform: ios }") }
            filter = try filterNode.value()
        }
        return .update(OverrideUpdate(name: name, target: target, isCollection: isCollection, assignments: assignments,
                                      whereClause: try fields["where"]?.string("an SQL condition"), filter: filter,
                                      location: node.location))
    }
}

/// Relative paths in configuration files are relative to the file that names them.
enum FilePaths {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if directory == "." { return path }
        return directory + "/" + path
    }
}
