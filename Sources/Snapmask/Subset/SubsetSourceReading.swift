/// A foreign key as the source declares it, by the names the plan uses for its tables.
public struct ForeignKeyShape: Sendable, Hashable {
    public var name: String
    public var child: String
    public var childColumns: [String]
    public var parent: String
    public var parentColumns: [String]

    public init(name: String, child: String, childColumns: [String], parent: String, parentColumns: [String]) {
        self.name = name
        self.child = child
        self.childColumns = childColumns
        self.parent = parent
        self.parentColumns = parentColumns
    }

    /// Foreign keys from a catalog's rows, one row per column pair in key order:
    /// constraint id, name, child table, child column, parent table, parent column.
    public static func grouping(_ rows: [[String?]]) -> [ForeignKeyShape] {
        var keys: [ForeignKeyShape] = []
        var current: String?
        for row in rows {
            guard row.count == 6, let id = row[0], let name = row[1], let child = row[2], let childColumn = row[3],
                  let parent = row[4], let parentColumn = row[5] else { continue }
            if id != current {
                current = id
                keys.append(ForeignKeyShape(name: name, child: child, childColumns: [], parent: parent, parentColumns: []))
            }
            keys[keys.count - 1].childColumns.append(childColumn)
            keys[keys.count - 1].parentColumns.append(parentColumn)
        }
        return keys
    }
}

/// What a subset asks of a table's reader: only these columns (or document paths), and, for a
/// root, the rows of its condition or the first `limit` in order. A `percent:` root reads every
/// key and keeps a share of the digests itself.
public struct KeyScan: Sendable, Hashable {
    public var columns: [String]
    public var condition: String?
    public var filter: ConfigValue?
    public var limit: Int?
    /// For `limit`: the rule file's order (an SQL ORDER BY list; for a collection a field path,
    /// `-path` for descending).
    public var orderBy: String?
    /// Otherwise, when order matters: these columns, ascending.
    public var orderColumns: [String]?

    public init(columns: [String], condition: String? = nil, filter: ConfigValue? = nil, limit: Int? = nil,
                orderBy: String? = nil) {
        self.columns = columns
        self.condition = condition
        self.filter = filter
        self.limit = limit
        self.orderBy = orderBy
    }
}

/// What a subset keeps of a row, given the values of the fields it asked for.
public enum RowDecision: Sendable {
    case drop
    case keep
    /// Keep the row with these fields (positions in the fields asked for) set to NULL.
    case keepNulling([Int])
}

/// Reads chosen fields out of a batch in an engine's format, and keeps the rows a subset selects.
public protocol RowFieldSelector: Sendable {
    /// `decide` sees each row's values of the fields (text; nil for NULL or a missing path), in
    /// order; the result holds the rows it kept, as they came except for fields it nulled.
    func select(_ batch: RowBatch, _ decide: ([String?]) throws -> RowDecision) throws -> RowBatch
}

/// What subsetting needs from an engine's source, beyond its readers (which honour
/// `TablePlan.keyScan`).
public protocol SubsetReadingSource: SourceSession {
    /// Every foreign key in the source (none for DocumentDB, whose references are declared).
    func foreignKeys() throws -> [ForeignKeyShape]
    /// Reads `fields` (columns of `plan`, or document paths) from the plan's batches.
    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector
}
