/// What kind of values a column holds, as far as masking cares.
public enum ValueCategory: String, Sendable, Codable, CaseIterable {
    case text, number, date, timestamp, time, boolean, uuid, json, network, binary, enumeration, other
    /// Geometries (MySQL's GEOMETRY, POINT, POLYGON, ...): the server accepts them only as geometry
    /// objects, never as text, so only `keep` and `null` fit (not even `constant`).
    case spatial
}

/// One column of a source table, as the engine's catalog describes it.
public struct ColumnShape: Sendable, Hashable, Codable {
    public var name: String
    /// The type as the engine spells it (`character varying(255)`, `jsonb`, `text[]`).
    public var typeName: String
    public var category: ValueCategory
    /// For array columns, the category of their elements.
    public var elementCategory: ValueCategory?
    /// `varchar(n)`: the most characters a value may have.
    public var maxLength: Int?
    public var nullable: Bool
    /// Computed by the database (generated columns): never copied, so never masked.
    public var isGenerated: Bool
    /// A document or JSON path whose object looks like a map keyed by data (many distinct field
    /// names, each in few objects): how many names the sample held. Its field names need a
    /// `keys:` rule.
    public var distinctKeys: Int?
    /// For a JSON column that a `json` rule masks: the paths found in a sample of its values.
    public var paths: [ColumnShape]?

    public init(name: String, typeName: String, category: ValueCategory, elementCategory: ValueCategory? = nil,
                maxLength: Int? = nil, nullable: Bool = true, isGenerated: Bool = false, distinctKeys: Int? = nil) {
        self.name = name
        self.typeName = typeName
        self.category = category
        self.elementCategory = elementCategory
        self.maxLength = maxLength
        self.nullable = nullable
        self.isGenerated = isGenerated
        self.distinctKeys = distinctKeys
    }

    public var isArray: Bool { elementCategory != nil }

    /// The column as the catalog defines it, without what a sample of its values added (the
    /// paths inside a JSON column), for comparing definitions.
    public var definition: ColumnShape {
        var column = self
        column.paths = nil
        return column
    }
}

/// One source table (or collection) with the keys `check` needs.
public struct TableShape: Sendable, Codable {
    /// As rules name it: `public.users` for PostgreSQL, `users` for MySQL.
    public var name: String
    public var columns: [ColumnShape]
    public var primaryKey: [String]
    /// Column sets under a unique index or constraint, the primary key included.
    public var uniqueKeys: [[String]]
    /// The engine's estimate, for ordering work and progress.
    public var estimatedRows: Int
    /// For a partition, the partitioned table whose rules it follows.
    public var partitionOf: String?
    /// A partitioned table holds no rows itself; its partitions do.
    public var holdsRows: Bool
    /// Unique indexes whose key holds an expression (`lower(email)`), with the columns it reads:
    /// masked values of those columns can collide in the expression. Nil in schemas recorded
    /// before this was looked at.
    public var uniqueExpressionIndexes: [UniqueExpressionIndex]?

    public init(name: String, columns: [ColumnShape], primaryKey: [String] = [], uniqueKeys: [[String]] = [],
                estimatedRows: Int = 0, partitionOf: String? = nil, holdsRows: Bool = true,
                uniqueExpressionIndexes: [UniqueExpressionIndex]? = nil) {
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.uniqueKeys = uniqueKeys
        self.estimatedRows = estimatedRows
        self.partitionOf = partitionOf
        self.holdsRows = holdsRows
        self.uniqueExpressionIndexes = uniqueExpressionIndexes
    }

    public func column(named name: String) -> ColumnShape? { columns.first { $0.name == name } }

    /// The columns the copy reads and writes: all but the generated ones.
    public var copiedColumns: [ColumnShape] { columns.filter { !$0.isGenerated } }
}

/// A unique index with an expression in its key, e.g. `CREATE UNIQUE INDEX people_name ON people
/// (lower("LastName"))`.
public struct UniqueExpressionIndex: Sendable, Codable, Equatable {
    public var name: String
    /// The key as the engine prints it: `lower("LastName")`.
    public var key: String
    /// The columns the key reads (not those only in a partial index's predicate).
    public var columns: [String]

    public init(name: String, key: String, columns: [String]) {
        self.name = name
        self.key = key
        self.columns = columns
    }
}

/// A link from the source to another database (PostgreSQL foreign data), known by name only:
/// its options (hosts, users, passwords) are never read.
public struct ForeignObject: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case server = "foreign server"
        case userMapping = "user mapping"
        case table = "foreign table"
    }

    public var kind: Kind
    /// The server's name, the mapped user's (`public` for PUBLIC) or the foreign table's
    /// (`public.remote_users`).
    public var name: String
    /// The server of a user mapping or foreign table.
    public var server: String?
    /// Views and materialized views that read a foreign table: they go (or stay) with it.
    public var dependents: [String]

    public init(kind: Kind, name: String, server: String? = nil, dependents: [String] = []) {
        self.kind = kind
        self.name = name
        self.server = server
        self.dependents = dependents
    }
}

/// The tables of a source database, as `check` compares them with the rules.
public struct SchemaShape: Sendable, Codable {
    public var tables: [TableShape]
    /// The schema a rule's unqualified table name means (`public` for PostgreSQL).
    public var defaultSchema: String?
    /// Foreign servers, user mappings and foreign tables. Nil in schemas recorded before this was
    /// looked at.
    public var foreignObjects: [ForeignObject]?

    public init(tables: [TableShape], defaultSchema: String? = nil, foreignObjects: [ForeignObject]? = nil) {
        self.tables = tables
        self.defaultSchema = defaultSchema
        self.foreignObjects = foreignObjects
    }

    public func table(named name: String) -> TableShape? {
        tables.first { $0.name == name } ?? defaultSchema.flatMap { schema in tables.first { $0.name == "\(schema).\(name)" } }
    }

    /// The rule a table follows: its own, or its partitioned parent's.
    public func rule(for table: TableShape, in rules: CompiledRules) -> CompiledTable? {
        if let own = rules.table(named: table.name) ?? unqualifiedRule(table.name, rules) { return own }
        guard let parent = table.partitionOf, let parentTable = self.table(named: parent) else { return nil }
        return rule(for: parentTable, in: rules)
    }

    private func unqualifiedRule(_ name: String, _ rules: CompiledRules) -> CompiledTable? {
        guard let schema = defaultSchema, name.hasPrefix(schema + ".") else { return nil }
        return rules.table(named: String(name.dropFirst(schema.count + 1)))
    }
}
