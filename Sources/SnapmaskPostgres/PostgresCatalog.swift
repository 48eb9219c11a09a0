import Snapmask

/// Reads the source's tables, columns and keys from pg_catalog into the engine-neutral shape
/// that `check` and the copy work from. Tables owned by extensions are left out: the extension
/// recreates them.
enum PostgresCatalog {
    /// The relations that are the source's tables. The list that is locked and the catalog that
    /// is checked use the same filter, so the two can be compared.
    static let tableFilter = """
        c.relkind IN ('r', 'p')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
        """

    struct ListedTable: Hashable {
        var oid: String
        var schema: String
        var name: String

        var qualified: String { "\(schema).\(name)" }
    }

    static func tables(_ connection: PostgresConnection) throws -> [ListedTable] {
        try connection.execute("""
            SELECT c.oid::text, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE \(tableFilter) ORDER BY n.nspname, c.relname
            """, []).rows.map { ListedTable(oid: $0[0]!, schema: $0[1]!, name: $0[2]!) }
    }

    static func schema(_ connection: PostgresConnection) throws -> SchemaShape {
        let foreignObjects = try PostgresForeignData.objects(connection)
        let tableRows = try connection.execute("""
            SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, GREATEST(c.reltuples, 0)::bigint::text,
                   (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i
                      JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                     WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE \(tableFilter)
             ORDER BY n.nspname, c.relname
            """, []).rows
        let oids = tableRows.map { $0[0]! }
        guard !oids.isEmpty else { return SchemaShape(tables: [], defaultSchema: "public", foreignObjects: foreignObjects) }
        let oidList = "{" + oids.joined(separator: ",") + "}"

        let columnRows = try connection.execute("""
            SELECT a.attrelid::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
                   (a.attgenerated <> '')::text,
                   COALESCE(bt.typname, t.typname), COALESCE(bt.typcategory, t.typcategory)::text,
                   et.typname, et.typcategory::text,
                   CASE WHEN COALESCE(bt.typname, t.typname) IN ('varchar', 'bpchar')
                         AND COALESCE(NULLIF(t.typtypmod, -1), a.atttypmod) > 4
                        THEN (COALESCE(NULLIF(t.typtypmod, -1), a.atttypmod) - 4)::text END
              FROM pg_attribute a
              JOIN pg_type t ON t.oid = a.atttypid
              LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
              LEFT JOIN pg_type et ON et.oid = COALESCE(bt.typelem, t.typelem)
                                  AND COALESCE(bt.typcategory, t.typcategory) = 'A'
             WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum
            """, [oidList]).rows
        var columns: [String: [ColumnShape]] = [:]
        for row in columnRows {
            let typeName = row[5] ?? "", categoryCode = row[6] ?? ""
            let elementCategory = row[7].map { category(typeName: $0, code: row[8] ?? "") }
            columns[row[0]!, default: []].append(ColumnShape(
                name: row[1]!, typeName: row[2]!, category: elementCategory == nil ? category(typeName: typeName, code: categoryCode) : .other,
                elementCategory: elementCategory, maxLength: row[9].flatMap { Int($0) }, nullable: row[3] != "true",
                isGenerated: row[4] == "true"))
        }

        let keys = try PostgresUniqueKeys.read(connection, oids: oidList, columns: columns.mapValues { $0.map(\.name) })

        let tables = tableRows.map { row -> TableShape in
            let oid = row[0]!
            return TableShape(name: "\(row[1]!).\(row[2]!)", columns: columns[oid] ?? [], primaryKey: keys.primaryKeys[oid] ?? [],
                              uniqueKeys: keys.uniqueKeys[oid] ?? [], estimatedRows: Int(row[4] ?? "0") ?? 0,
                              partitionOf: row[5], holdsRows: row[3] == "r",
                              uniqueExpressionIndexes: keys.expressionIndexes[oid] ?? [])
        }
        return SchemaShape(tables: tables, defaultSchema: "public", foreignObjects: foreignObjects)
    }

    static func category(typeName: String, code: String) -> ValueCategory {
        switch typeName {
        case "uuid": return .uuid
        case "json", "jsonb": return .json
        case "bytea": return .binary
        case "date": return .date
        case "timestamp", "timestamptz": return .timestamp
        case "time", "timetz": return .time
        case "geometry", "geography": return .spatial
        default: break
        }
        switch code {
        case "G": return .spatial
        case "S": return .text
        case "N": return .number
        case "B": return .boolean
        case "I": return .network
        case "E": return .enumeration
        default: return .other
        }
    }
}
