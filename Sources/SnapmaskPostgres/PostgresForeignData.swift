import Snapmask

/// Foreign servers, user mappings and foreign tables: links from the source to whatever it can
/// reach. A shadow that got them would give staging live connections into those databases (a
/// user mapping may hold a password), so `check` fails on them unless the rule file says
/// `foreign_data: skip`, and the schema dump never carries them (see `PostgresSchemaDump`).
/// Only names are read here, never OPTIONS.
enum PostgresForeignData {
    /// A relation left out of staging: a foreign table, or a view or materialized view reading
    /// one (directly or through other views).
    struct LeftOut: Hashable {
        var schema: String
        var name: String
        var kind: String
        /// The foreign table it reads (itself for a foreign table).
        var foreignTable: String

        var qualified: String { "\(schema).\(name)" }
    }

    static func objects(_ connection: PostgresConnection) throws -> [ForeignObject] {
        let leftOut = try relations(connection)
        var objects = try connection.execute("""
            SELECT 'server', s.srvname, NULL FROM pg_foreign_server s
            UNION ALL
            SELECT 'mapping', COALESCE(m.usename, 'public'), m.srvname FROM pg_user_mappings m
            UNION ALL
            SELECT 'table', n.nspname || '.' || c.relname, s.srvname
              FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_foreign_server s ON s.oid = f.ftserver
            ORDER BY 1, 2, 3
            """, []).rows.map { row -> ForeignObject in
            let kind: ForeignObject.Kind = row[0] == "server" ? .server : row[0] == "mapping" ? .userMapping : .table
            return ForeignObject(kind: kind, name: row[1]!, server: row[2])
        }
        for index in objects.indices where objects[index].kind == .table {
            objects[index].dependents = leftOut.filter { $0.foreignTable == objects[index].name && $0.kind != "foreign table" }
                .map { "\($0.kind) \($0.qualified)" }
        }
        return objects
    }

    /// Foreign tables and every view or materialized view that reads one.
    static func relations(_ connection: PostgresConnection) throws -> [LeftOut] {
        try connection.execute("""
            WITH RECURSIVE reads(foreign_table, oid) AS (
                SELECT f.ftrelid, f.ftrelid FROM pg_foreign_table f
              UNION
                SELECT reads.foreign_table, r.ev_class FROM reads
                  JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = reads.oid
                                  AND d.classid = 'pg_rewrite'::regclass
                  JOIN pg_rewrite r ON r.oid = d.objid
                 WHERE r.ev_class <> reads.oid)
            SELECT DISTINCT n.nspname, c.relname,
                   CASE c.relkind WHEN 'f' THEN 'foreign table' WHEN 'm' THEN 'materialized view' ELSE 'view' END,
                   fn.nspname || '.' || fc.relname
              FROM reads JOIN pg_class c ON c.oid = reads.oid JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_class fc ON fc.oid = reads.foreign_table JOIN pg_namespace fn ON fn.oid = fc.relnamespace
             ORDER BY 1, 2, 4
            """, []).rows.map { LeftOut(schema: $0[0]!, name: $0[1]!, kind: $0[2]!, foreignTable: $0[3]!) }
    }

    /// Marks the entries of a `pg_restore --list` that are foreign servers or user mappings (and
    /// their comments, grants and labels) as left out (`;`). pg_dump cannot exclude them itself;
    /// foreign tables and the views on them are excluded when dumping (`--exclude-table`), which
    /// takes their comments, grants and indexes with them.
    static func withoutServersAndMappings(_ list: String) -> String {
        list.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let description = entryDescription(line) else { return String(line) }
            let linked = ["SERVER - ", "USER MAPPING - ", "COMMENT - SERVER ", "ACL - FOREIGN SERVER ",
                          "SECURITY LABEL - SERVER "]
            return linked.contains(where: { description.hasPrefix($0) }) ? ";" + line : String(line)
        }.joined(separator: "\n")
    }

    /// `3376; 0 0 USER MAPPING - USER MAPPING reader SERVER prod_link postgres` → the part after
    /// the dump id and catalog ids; nil for comment lines.
    private static func entryDescription(_ line: Substring) -> Substring? {
        guard !line.hasPrefix(";"), let semicolon = line.firstIndex(of: ";") else { return nil }
        var rest = line[line.index(after: semicolon)...].drop(while: { $0 == " " })
        for _ in 0..<2 {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            rest = rest[rest.index(after: space)...]
        }
        return rest
    }

    /// What a foreign server, user mapping or foreign table begins with in a dump. If one is still
    /// in the text after filtering (a pg_dump that names its entries differently), the run stops.
    static func holdsLinks(_ sql: String) -> Bool {
        sql.split(separator: "\n").contains { line in
            line.hasPrefix("CREATE SERVER ") || line.hasPrefix("CREATE USER MAPPING ") || line.hasPrefix("CREATE FOREIGN TABLE ")
        }
    }
}
