/// What happens to a table, column or field path that no rule names.
public enum UnlistedPolicy: String, Sendable {
    /// Stop before anything is written (the default: fail closed).
    case fail
    /// Copy it unmasked.
    case keep
}

/// What happens to foreign servers, user mappings and foreign tables (PostgreSQL): links from the
/// source to other databases, which staging must never get.
public enum ForeignDataPolicy: String, Sendable {
    /// `check` fails naming each one (the default: fail closed).
    case fail
    /// They are left out of staging, with the views built on foreign tables.
    case skip
}

/// One column's (or document field path's) rule.
public struct ColumnRule: Sendable, Hashable {
    public var name: String
    public var spec: TransformSpec
    /// For array columns: mask every element rather than the array's text.
    public var perElement: Bool
    public var location: SourceLocation
}

/// One table's (or collection's) rule.
public struct TableRule: Sendable {
    public var name: String
    public var location: SourceLocation
    /// `data: skip`: create the table, copy no rows.
    public var skipData: Bool
    /// `where:` (SQL engines): only the rows matching this condition are copied.
    public var whereClause: String?
    /// `filter:` (DocumentDB): only the documents matching this query are copied.
    public var filter: ConfigValue?
    public var columns: [ColumnRule]

    public func column(named name: String) -> ColumnRule? { columns.first { $0.name == name } }
}

/// A rule file: what to do with every table and column of one database.
public struct RuleSet: Sendable {
    public enum Kind: String, Sendable {
        case tables, collections

        var itemKey: String { self == .tables ? "columns" : "fields" }
        var subsetKey: String { self == .tables ? "where" : "filter" }
        var itemName: String { self == .tables ? "column" : "field path" }
        var entityName: String { self == .tables ? "table" : "collection" }
    }

    public var path: String
    public var unlisted: UnlistedPolicy
    public var kind: Kind
    public var tables: [TableRule]
    public var foreignData: ForeignDataPolicy
    /// `strict_keep: true`: a `keep` column whose sampled values look like personal data stops
    /// `check` and the run (by default they are warnings).
    public var strictKeep: Bool
    /// `subset:`: copy a slice of the rows, closed under foreign keys and declared references.
    public var subset: SubsetRules?

    public init(path: String, unlisted: UnlistedPolicy = .fail, kind: Kind, tables: [TableRule],
                foreignData: ForeignDataPolicy = .fail, strictKeep: Bool = false, subset: SubsetRules? = nil) {
        self.path = path
        self.subset = subset
        self.strictKeep = strictKeep
        self.unlisted = unlisted
        self.kind = kind
        self.tables = tables
        self.foreignData = foreignData
    }

    public func table(named name: String) -> TableRule? { tables.first { $0.name == name } }

    /// Rule files expand no `${VAR}`: what is masked, and how, is in the reviewed file itself.
    static let interpolator = Interpolator.none(
        "rule files take no environment variables (what is masked, and how, must be in the reviewed file); "
            + "write the value itself")

    /// Reads a rule file; every problem found is reported, not only the first.
    public static func load(path: String, displayPath: String, environment: [String: String]) throws -> RuleSet {
        let root: YAMLNode
        do {
            root = try YAMLNode.load(path: path, displayPath: displayPath, interpolator: Self.interpolator)
        } catch { throw error }
        return try parse(root, path: displayPath)
    }

    public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws -> RuleSet {
        let root: YAMLNode
        do {
            root = try YAMLNode.parse(text, file: file, interpolator: Self.interpolator)
        } catch { throw error }
        return try parse(root, path: file)
    }

    private static func parse(_ root: YAMLNode, path: String) throws -> RuleSet {
        var errors = ConfigErrors()
        let fields: YAMLNode.Fields
        do {
            fields = try root.fields("a rule file", allowed: ["unlisted", "tables", "collections", "foreign_data",
                                                                 "strict_keep", "subset"])
        } catch { throw error }

        var unlisted = UnlistedPolicy.fail
        if let node = fields["unlisted"] {
            errors.collect {
                let text = try node.string("unlisted: fail or keep")
                guard let policy = UnlistedPolicy(rawValue: text) else {
                    throw node.error("unlisted must be 'fail' (stop on any table or column without a rule) or 'keep' (copy it unmasked)")
                }
                unlisted = policy
            }
        }
        var foreignData = ForeignDataPolicy.fail
        if let node = fields["foreign_data"] {
            errors.collect {
                guard let policy = ForeignDataPolicy(rawValue: try node.string("foreign_data: fail or skip")) else {
                    throw node.error("foreign_data must be 'fail' (stop on any foreign server, user mapping or foreign table) "
                                        + "or 'skip' (leave them out of staging)")
                }
                foreignData = policy
            }
        }
        var strictKeep = false
        if let node = fields["strict_keep"] {
            errors.collect { strictKeep = try node.bool("strict_keep: true or false") }
        }
        let kind: Kind
        let entitiesNode: YAMLNode
        switch (fields["tables"], fields["collections"]) {
        case let (tables?, nil): kind = .tables; entitiesNode = tables
        case let (nil, collections?): kind = .collections; entitiesNode = collections
        case (.some, .some):
            throw ConfigErrors([root.error("a rule file has either tables: (SQL engines) or collections: (DocumentDB), not both")])
        case (nil, nil):
            throw ConfigErrors([root.error("a rule file needs tables: (PostgreSQL, MySQL) or collections: (DocumentDB)")])
        }

        var tables: [TableRule] = []
        do {
            for entry in try entitiesNode.entries("the \(kind.rawValue) of the rule file") {
                errors.collect { tables.append(try parseTable(entry, kind: kind)) }
            }
        } catch { errors.append(error) }
        var subset: SubsetRules?
        if let node = fields["subset"] {
            errors.collect { subset = try SubsetRulesParser.parse(node, kind: kind) }
        }
        if kind == .collections, let node = fields["foreign_data"] {
            errors.append(node.error("foreign_data: is for PostgreSQL rule files (tables:); remove it"))
        }
        try errors.throwIfAny()
        return RuleSet(path: path, unlisted: unlisted, kind: kind, tables: tables, foreignData: foreignData,
                       strictKeep: strictKeep, subset: subset)
    }

    private static func parseTable(_ entry: YAMLNode.Entry, kind: Kind) throws -> TableRule {
        var errors = ConfigErrors()
        let node = entry.value
        var rule = TableRule(name: entry.key, location: entry.keyLocation, skipData: false, whereClause: nil, filter: nil,
                             columns: [])
        let fields = try node.fields("\(kind.entityName) '\(entry.key)'", allowed: [kind.itemKey, kind.subsetKey, "data"])
        if let data = fields["data"] {
            switch try data.string("data: skip or copy") {
            case "skip": rule.skipData = true
            case "copy": rule.skipData = false
            default: throw data.error("data must be 'skip' (schema only, no rows) or 'copy' (the default)")
            }
        }
        if kind == .tables, let condition = fields["where"] {
            let text = try condition.string("an SQL condition, e.g. created_at > now() - interval '90 days'")
            if SQLCondition.hasStatementSeparator(text) {
                throw condition.error("the where: of table '\(entry.key)' holds a ';' outside a quoted string; a where: is one "
                                          + "SQL condition and can never add a statement: remove the ';'")
            }
            rule.whereClause = text
        }
        if kind == .collections, let filter = fields["filter"] {
            guard filter.isMapping else { throw filter.error("filter must be a query document, e.g. { archived: false }") }
            rule.filter = try filter.value()
        }
        if let items = fields[kind.itemKey] {
            for item in try items.entries("the \(kind.itemKey) of '\(entry.key)'") {
                errors.collect {
                    if kind == .collections {
                        _ = try FieldPathParse.check(item.key, at: item.keyLocation)
                        for path in try TransformSpecParser.parsePathRule(item, what: "field path '\(item.key)' of '\(entry.key)'") {
                            _ = try FieldPathParse.check(path.path, at: item.keyLocation)
                            rule.columns.append(ColumnRule(name: path.path, spec: path.spec, perElement: false,
                                                           location: item.keyLocation))
                        }
                    } else {
                        rule.columns.append(try parseColumn(item, owner: entry.key, kind: kind))
                    }
                }
            }
        } else if !rule.skipData {
            throw node.error("\(kind.entityName) '\(entry.key)' needs \(kind.itemKey): (a rule per \(kind.itemName)) or data: skip")
        }
        try errors.throwIfAny()
        return rule
    }

    private static func parseColumn(_ entry: YAMLNode.Entry, owner: String, kind: Kind) throws -> ColumnRule {
        let parsed = try TransformSpecParser.parse(entry.value, what: "\(kind.itemName) '\(entry.key)' of '\(owner)'",
                                                   allowArray: kind == .tables)
        return ColumnRule(name: entry.key, spec: parsed.spec, perElement: parsed.perElement, location: entry.keyLocation)
    }
}

enum FieldPathParse {
    static func check(_ text: String, at location: SourceLocation) throws -> FieldPath {
        do { return try FieldPath(text) } catch let error as ConfigError { throw ConfigError(error.message, at: location) }
    }
}

/// Reads `email`, `null`, or `{ transform: phone, keep_last: 2, unique: true }` into a spec.
enum TransformSpecParser {
    /// A document or JSON path's rule: a transformer, or a map rule `{ keys: hash, values: keep }`
    /// for an object whose field names are data. A map rule becomes a rule on the field names at
    /// the path and, with `values:`, a rule on every field there (`path.*`).
    static func parsePathRule(_ entry: YAMLNode.Entry, what: String) throws -> [(path: String, spec: TransformSpec)] {
        let node = entry.value
        guard node.isMapping, let keys = try node.entries(what).first(where: { $0.key == "keys" }) else {
            var spec = try parse(node, what: what, allowArray: false).spec
            if spec.location == nil { spec.location = entry.keyLocation }
            return [(entry.key, spec)]
        }
        let fields = try node.fields("the map rule of \(what)", allowed: ["keys", "values"])
        var keysSpec = try parse(keys.value, what: "keys: of \(what)", allowArray: false).spec
        keysSpec.appliesToKeys = true
        if keysSpec.location == nil { keysSpec.location = keys.keyLocation }
        var rules = [(entry.key, keysSpec)]
        if let values = fields["values"] {
            var valuesSpec = try parse(values, what: "values: of \(what)", allowArray: false).spec
            if valuesSpec.location == nil { valuesSpec.location = values.location }
            rules.append((entry.key + ".*", valuesSpec))
        }
        return rules
    }

    static func parse(_ node: YAMLNode, what: String, allowArray: Bool) throws -> (spec: TransformSpec, perElement: Bool) {
        if node.isNull { return (TransformSpec(name: "null", location: node.location), false) }
        if node.isEmpty {
            throw node.error("\(what) has no rule: write a transformer (keep, null, email, ...) after the colon")
        }
        if node.isScalar {
            return (TransformSpec(name: try node.string("a transformer name"), location: node.location), false)
        }
        guard node.isMapping else {
            throw node.error("\(what) must be a transformer name or { transform: NAME, option: value, ... }")
        }
        var name: String?
        var unique = false
        var perElement = false
        var options: [String: OptionValue] = [:]
        var order: [String] = []
        for entry in try node.entries(what) {
            switch entry.key {
            case "transform":
                name = entry.value.isNull ? "null" : try entry.value.string("a transformer name")
            case "unique":
                unique = try entry.value.bool("unique")
            case "array" where allowArray:
                perElement = try entry.value.bool("array")
            case "review":
                throw ConfigError("\(what) is a suggestion waiting for review (\((try? entry.value.string("")) ?? "")): check "
                                      + "the rule, then remove review: from it", at: entry.keyLocation)
            case "paths":
                var paths: [(path: String, spec: TransformSpec)] = []
                for path in try entry.value.entries("the paths of \(what)") {
                    paths += try parsePathRule(path, what: "path '\(path.key)' of \(what)")
                }
                options[entry.key] = OptionValue(.paths(paths), location: entry.keyLocation)
                order.append(entry.key)
            default:
                if Spelling.distance(entry.key, "transform") <= 2 || Spelling.distance(entry.key, "unique") <= 1 {
                    throw ConfigError(YAMLNode.unknownKeyMessage(entry.key, in: what, allowed: ["transform", "unique"]),
                                      at: entry.keyLocation)
                }
                guard entry.value.isScalar else {
                    throw entry.value.error("option '\(entry.key)' of \(what) takes a single value")
                }
                options[entry.key] = entry.value.isNull || entry.value.isEmpty
                    ? OptionValue(.null, location: entry.keyLocation)
                    : OptionValue(.text(try entry.value.string("a value")), location: entry.keyLocation)
                order.append(entry.key)
            }
        }
        guard let name else {
            throw node.error("\(what) needs 'transform:' naming the transformer (keys here: \(order.joined(separator: ", ")))")
        }
        return (TransformSpec(name: name, options: options, optionOrder: order, unique: unique, location: node.location),
                perElement)
    }
}
