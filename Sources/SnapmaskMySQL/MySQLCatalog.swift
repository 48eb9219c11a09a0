import Snapmask

/// Reads a database's tables, columns and keys from information_schema into the engine-neutral
/// shape that `check` and the copy work from. Table names are unqualified (`users`): the
/// database is the URL's.
enum MySQLCatalog {
    static func schema(_ connection: MySQLConnection, database: String) throws -> SchemaShape {
        let db = connection.literal(database)
        // MariaDB's sequences and system-versioned tables are not restored (yet): say so rather
        // than leave them out of staging.
        let unsupported = try connection.query("""
            SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = \(db) AND TABLE_TYPE NOT IN ('BASE TABLE', 'VIEW') ORDER BY TABLE_NAME
            """)
        if !unsupported.isEmpty {
            throw MySQLError("the source database \(database) has tables snapmask cannot restore yet: "
                                 + unsupported.map { "\($0[0] ?? "?") (\(($0[1] ?? "?").lowercased()))" }.joined(separator: ", ")
                                 + "; only base tables and views are restored")
        }
        let tableRows = try connection.query("""
            SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = \(db) AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME
            """)
        let columns = try Self.columns(connection, database: database)
        var primaryKeys: [String: [String]] = [:]
        var uniqueKeys: [String: [[String]]] = [:]
        var current: (table: String, index: String, columns: [String], complete: Bool)?
        // Tables with a unique key on an expression (MySQL 8's functional key parts, which have no
        // column) or on a generated column: their SHOW CREATE TABLE says what the key reads.
        var expressionKeyed = Set<String>()
        func flush() {
            guard let key = current, key.complete, !key.columns.isEmpty else { return }
            if key.index == "PRIMARY" { primaryKeys[key.table] = key.columns }
            uniqueKeys[key.table, default: []].append(key.columns)
        }
        for row in try connection.query("""
            SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = \(db) AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
            """) {
            let table = row[0] ?? "", index = row[1] ?? ""
            if current?.table != table || current?.index != index {
                flush()
                current = (table, index, [], true)
            }
            // A functional key part (MySQL 8) has no column: the key says nothing about one column.
            if let column = row[2] {
                current?.columns.append(column)
                if columns[table]?.first(where: { $0.name == column })?.isGenerated == true { expressionKeyed.insert(table) }
            } else {
                current?.complete = false
                expressionKeyed.insert(table)
            }
        }
        flush()
        var expressionIndexes: [String: [UniqueExpressionIndex]] = [:]
        for table in expressionKeyed.sorted() {
            let create = try connection.query("SHOW CREATE TABLE \(MySQLIdentifier.qualified(database, table))").first?[1] ?? ""
            expressionIndexes[table] = MySQLCreateTableText.uniqueExpressionIndexes(
                create, columns: (columns[table] ?? []).map(\.name))
        }
        let tables = tableRows.map { row -> TableShape in
            let name = row[0] ?? ""
            return TableShape(name: name, columns: columns[name] ?? [], primaryKey: primaryKeys[name] ?? [],
                              uniqueKeys: uniqueKeys[name] ?? [], estimatedRows: Int(row[1] ?? "0") ?? 0,
                              uniqueExpressionIndexes: expressionIndexes[name] ?? [])
        }
        return SchemaShape(tables: tables)
    }

    /// The columns of the database's tables (of one table when `table` is given), in order.
    static func columns(_ connection: MySQLConnection, database: String, table: String? = nil) throws -> [String: [ColumnShape]] {
        let db = connection.literal(database)
        let onlyTable = table.map { " AND TABLE_NAME = \(connection.literal($0))" } ?? ""
        // MariaDB's JSON is LONGTEXT with a json_valid() check; MySQL's is a type of its own.
        var jsonColumns = Set<[String]>()
        if connection.isMariaDB {
            for row in try connection.query("""
                SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
                 WHERE CONSTRAINT_SCHEMA = \(db)\(onlyTable) AND LEVEL = 'Column'
                """) where row[2] == "json_valid(\(MySQLIdentifier.quoted(row[1] ?? "")))" {
                jsonColumns.insert([row[0] ?? "", row[1] ?? ""])
            }
        }
        var columns: [String: [ColumnShape]] = [:]
        for row in try connection.query("""
            SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, EXTRA
              FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(db)\(onlyTable) ORDER BY TABLE_NAME, ORDINAL_POSITION
            """) {
            let table = row[0] ?? "", name = row[1] ?? "", dataType = (row[2] ?? "").lowercased()
            let isJSON = dataType == "json" || jsonColumns.contains([table, name])
            let generated = isGenerated(extra: row[6] ?? "")
            let maxLength = ["char", "varchar"].contains(dataType) ? row[5].flatMap { Int($0) } : nil
            columns[table, default: []].append(ColumnShape(
                name: name, typeName: isJSON ? "json" : (row[3] ?? dataType),
                category: isJSON ? .json : category(dataType: dataType, columnType: (row[3] ?? "").lowercased()),
                maxLength: maxLength, nullable: row[4] == "YES", isGenerated: generated))
        }
        return columns
    }

    /// Whether information_schema's EXTRA marks a generated column. Not MySQL 8's
    /// `DEFAULT_GENERATED` (a column with a `DEFAULT (expr)`, which is stored and copied), nor
    /// `INVISIBLE`.
    static func isGenerated(extra: String) -> Bool {
        let words = extra.uppercased()
        return ["VIRTUAL GENERATED", "STORED GENERATED", "PERSISTENT GENERATED"].contains { words.contains($0) }
    }

    static func category(dataType: String, columnType: String) -> ValueCategory {
        switch dataType {
        case "char", "varchar", "tinytext", "text", "mediumtext", "longtext": return .text
        case "tinyint" where columnType.hasPrefix("tinyint(1)"): return .boolean
        case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float", "double",
             "real", "year":
            return .number
        case "date": return .date
        case "datetime", "timestamp": return .timestamp
        case "time": return .time
        case "json": return .json
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob": return .binary
        case "enum", "set": return .enumeration
        case "uuid": return .uuid
        case "inet4", "inet6": return .network
        case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
             "geometrycollection", "geomcollection":
            return .spatial
        default: return .other
        }
    }
}

/// How a column's values travel from the source's text protocol into LOAD DATA, so that kept
/// values arrive byte for byte.
enum MySQLValueTransport {
    /// The server's text form, loaded as it is.
    case plain
    /// Bytes that are not text (BLOB, BINARY, BIT, spatial): read as `HEX(col)`, loaded with
    /// `SET col = UNHEX(@v)`, so every byte value survives whatever the character sets.
    case hex
    /// FLOAT's text form has 6 significant digits and does not round-trip; `col * 1e0` is the
    /// same value as a DOUBLE, whose text form does, and the load rounds it back exactly.
    case float

    static let hexTypes: Set<String> = [
        "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "geometry", "point", "linestring",
        "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection",
    ]

    /// Masked columns are always read as text: their transformer wants text and writes text.
    static func of(_ column: ColumnShape, masked: Bool) -> MySQLValueTransport {
        if masked { return .plain }
        let base = String(column.typeName.lowercased().prefix { $0.isLetter })
        if hexTypes.contains(base) { return .hex }
        if base == "float" { return .float }
        return .plain
    }

    /// The expression a reader selects for the column.
    func selectExpression(_ column: String) -> String {
        switch self {
        case .plain: return MySQLIdentifier.quoted(column)
        case .hex: return "HEX(\(MySQLIdentifier.quoted(column)))"
        case .float: return "(\(MySQLIdentifier.quoted(column)) * 1e0)"
        }
    }

    /// The SELECT list of a table's copy.
    static func selectList(_ plan: TablePlan) -> String {
        plan.columns.enumerated().map { index, column in
            of(column, masked: plan.masks[index] != nil).selectExpression(column.name)
        }.joined(separator: ", ")
    }

    /// The LOAD DATA column list and its SET clause for a table's copy. `maskedColumns`: columns
    /// that hold transformer output though the plan masks nothing (a restore from a snapshot).
    static func loadColumns(_ plan: TablePlan, maskedColumns: Set<String>) -> String {
        var targets: [String] = []
        var assignments: [String] = []
        for (index, column) in plan.columns.enumerated() {
            if of(column, masked: plan.masks[index] != nil || maskedColumns.contains(column.name)) == .hex {
                targets.append("@v\(index)")
                assignments.append("\(MySQLIdentifier.quoted(column.name)) = UNHEX(@v\(index))")
            } else {
                targets.append(MySQLIdentifier.quoted(column.name))
            }
        }
        return "(\(targets.joined(separator: ", ")))" + (assignments.isEmpty ? "" : " SET " + assignments.joined(separator: ", "))
    }
}
