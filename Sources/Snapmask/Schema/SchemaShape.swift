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

    public init(name: String, columns: [ColumnShape], primaryKey: [String] = [], uniqueKeys: [[String]] = [],
                estimatedRows: Int = 0, partitionOf: String? = nil, holdsRows: Bool = true) {
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.uniqueKeys = uniqueKeys
        self.estimatedRows = estimatedRows
        self.partitionOf = partitionOf
        self.holdsRows = holdsRows
    }

    public func column(named name: String) -> ColumnShape? { columns.first { $0.name == name } }

    /// The columns the copy reads and writes: all but the generated ones.
    public var copiedColumns: [ColumnShape] { columns.filter { !$0.isGenerated } }
}

/// The tables of a source database, as `check` compares them with the rules.
public struct SchemaShape: Sendable, Codable {
    public var tables: [TableShape]
    /// The schema a rule's unqualified table name means (`public` for PostgreSQL).
    public var defaultSchema: String?

    public init(tables: [TableShape], defaultSchema: String? = nil) {
        self.tables = tables
        self.defaultSchema = defaultSchema
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
