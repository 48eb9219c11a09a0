import Foundation
import Snapmask

/// One table's definition, split for loading: the CREATE TABLE without its secondary indexes and
/// foreign keys (rows load faster into a table that only has its primary key), and what is
/// added after the data.
struct MySQLTableDefinition: Sendable, Codable {
    var name: String
    var createSQL: String
    /// `KEY ...` / `UNIQUE KEY ...` clauses added after the data.
    var deferredIndexes: [String]
    var foreignKeys: [MySQLForeignKey]
    /// CHECK constraints (MariaDB), with the columns each one reads.
    var checks: [MySQLCheck] = []
}

struct MySQLCheck: Sendable, Codable {
    var clause: String
    var columns: Set<String>

    /// Whether copied rows (with these columns masked, by these transformers) satisfy the check without the server evaluating it:
    /// the source enforced it on the same values when it reads only kept columns; the json
    /// transformer writes valid JSON, so MariaDB's `json_valid(col)` (its JSON type) holds too.
    func holds(maskedColumns: [String: String]) -> Bool {
        let masked = maskedColumns.filter { columns.contains($0.key) }
        guard let (name, transformer) = masked.first else { return true }
        return masked.count == 1 && transformer == "json" && clause == "json_valid(\(MySQLIdentifier.quoted(name)))"
    }
}

struct MySQLForeignKey: Sendable, Codable {
    var name: String
    /// `CONSTRAINT ... FOREIGN KEY ... REFERENCES ...` as SHOW CREATE TABLE wrote it.
    var clause: String
    var columns: [String] = []
    var referencedSchema: String = ""
    var referencedTable: String = ""
    var referencedColumns: [String] = []
}

/// A view, routine or trigger: its CREATE statement made portable (no DEFINER, no source
/// database name) and the sql_mode it was created under.
struct MySQLStoredObject: Sendable, Codable {
    enum Kind: String, Sendable, Codable {
        case procedure = "PROCEDURE", function = "FUNCTION", view = "VIEW", trigger = "TRIGGER"
    }

    var kind: Kind
    var name: String
    var sql: String
    var sqlMode: String?
}

/// Everything of the source database that is not rows.
struct MySQLSchemaObjects: Sendable, Codable {
    var characterSet: String
    var collation: String
    var tables: [MySQLTableDefinition]
    var routines: [MySQLStoredObject]
    var views: [MySQLStoredObject]
    var triggers: [MySQLStoredObject]

    func table(named name: String) -> MySQLTableDefinition? { tables.first { $0.name == name } }

    static func read(_ connection: MySQLConnection, database: String, schema: SchemaShape) throws -> MySQLSchemaObjects {
        let db = connection.literal(database)
        let defaults = try connection.query("""
            SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(db)
            """).first
        guard let defaults else { throw MySQLError("the database \(database) does not exist on the source") }

        var autoIncrement: [String: String] = [:]
        for row in try connection.query("""
            SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = \(db) AND EXTRA LIKE '%auto_increment%'
            """) {
            autoIncrement[row[0] ?? ""] = row[1] ?? ""
        }
        var foreignKeys: [String: [String: MySQLForeignKey]] = [:]
        for row in try connection.query("""
            SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
              FROM information_schema.KEY_COLUMN_USAGE
             WHERE TABLE_SCHEMA = \(db) AND REFERENCED_TABLE_NAME IS NOT NULL
             ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
            """) {
            let table = row[0] ?? "", name = row[1] ?? ""
            var key = foreignKeys[table]?[name] ?? MySQLForeignKey(name: name, clause: "")
            key.columns.append(row[2] ?? "")
            key.referencedSchema = row[3] ?? database
            key.referencedTable = row[4] ?? ""
            key.referencedColumns.append(row[5] ?? "")
            foreignKeys[table, default: [:]][name] = key
        }

        var checks: [String: [MySQLCheck]] = [:]
        if connection.isMariaDB {
            for row in try connection.query("""
                SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = \(db)
                """) {
                let table = row[0] ?? "", clause = row[1] ?? ""
                let names = Set(schema.table(named: table)?.columns.map(\.name) ?? [])
                checks[table, default: []].append(MySQLCheck(clause: clause, columns: quotedNames(in: clause).intersection(names)))
            }
        }
        var tables: [MySQLTableDefinition] = []
        for shape in schema.tables {
            let create = try connection.query("SHOW CREATE TABLE \(MySQLIdentifier.qualified(database, shape.name))").first?[1]
            guard let create else { throw MySQLError("SHOW CREATE TABLE \(shape.name) returned nothing") }
            var table = split(create, table: shape.name, autoIncrementColumn: autoIncrement[shape.name],
                              hasPrimaryKey: !shape.primaryKey.isEmpty, foreignKeys: foreignKeys[shape.name] ?? [:])
            table.checks = checks[shape.name] ?? []
            tables.append(table)
        }

        var routines: [MySQLStoredObject] = []
        for row in try connection.query("""
            SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES
             WHERE ROUTINE_SCHEMA = \(db) AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION') ORDER BY ROUTINE_TYPE, ROUTINE_NAME
            """) {
            let name = row[0] ?? "", kind = MySQLStoredObject.Kind(rawValue: row[1] ?? "") ?? .procedure
            let shown = try connection.query("SHOW CREATE \(kind.rawValue) \(MySQLIdentifier.qualified(database, name))").first
            guard let shown, shown.count > 2, let sql = shown[2] else {
                throw MySQLError("cannot read the definition of \(kind.rawValue.lowercased()) \(name): the source account needs "
                                     + "SHOW_ROUTINE (MySQL) or SELECT on mysql.proc (MariaDB), or to be its definer")
            }
            routines.append(MySQLStoredObject(kind: kind, name: name, sql: portable(sql, database: database), sqlMode: shown[1]))
        }

        var views: [MySQLStoredObject] = []
        for row in try connection.query("""
            SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = \(db) ORDER BY TABLE_NAME
            """) {
            let name = row[0] ?? ""
            guard let sql = try connection.query("SHOW CREATE VIEW \(MySQLIdentifier.qualified(database, name))").first?[1] else {
                throw MySQLError("cannot read the definition of view \(name): the source account needs SHOW VIEW")
            }
            views.append(MySQLStoredObject(kind: .view, name: name, sql: portable(sql, database: database), sqlMode: nil))
        }

        var triggers: [MySQLStoredObject] = []
        for row in try connection.query("""
            SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \(db)
             ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER
            """) {
            let name = row[0] ?? ""
            let shown = try connection.query("SHOW CREATE TRIGGER \(MySQLIdentifier.qualified(database, name))").first
            guard let shown, shown.count > 2, let sql = shown[2] else {
                throw MySQLError("cannot read the definition of trigger \(name): the source account needs TRIGGER")
            }
            triggers.append(MySQLStoredObject(kind: .trigger, name: name, sql: portable(sql, database: database), sqlMode: shown[1]))
        }
        return MySQLSchemaObjects(characterSet: defaults[0] ?? "utf8mb4", collation: defaults[1] ?? "utf8mb4_general_ci",
                                  tables: tables, routines: routines, views: views, triggers: triggers)
    }

    static func portable(_ sql: String, database: String) -> String {
        MySQLSQLText.withoutQualifier(MySQLSQLText.withoutDefiner(sql), database: database)
    }

    /// Splits SHOW CREATE TABLE's text (one clause per line) into the table with its primary key,
    /// and the secondary indexes and foreign keys to add after the data. Kept in the CREATE:
    /// FULLTEXT and SPATIAL indexes, an index that the AUTO_INCREMENT column needs, and unique keys
    /// of a table without a primary key (InnoDB clusters on the first of them).
    static func split(_ create: String, table: String, autoIncrementColumn: String?, hasPrimaryKey: Bool,
                      foreignKeys: [String: MySQLForeignKey]) -> MySQLTableDefinition {
        let lines = create.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let open = lines.firstIndex(where: { $0.hasSuffix("(") }),
              let close = lines.lastIndex(where: { $0.hasPrefix(")") }), open < close else {
            return MySQLTableDefinition(name: table, createSQL: create, deferredIndexes: [], foreignKeys: [])
        }
        var kept: [String] = []
        var deferred: [String] = []
        var keys: [MySQLForeignKey] = []
        for line in lines[(open + 1)..<close] {
            var clause = line.trimmingCharacters(in: .whitespaces)
            if clause.hasSuffix(",") { clause.removeLast() }
            let isIndex = clause.hasPrefix("KEY ") || clause.hasPrefix("INDEX ")
            let isUnique = clause.hasPrefix("UNIQUE KEY ") || clause.hasPrefix("UNIQUE INDEX ")
            if clause.hasPrefix("CONSTRAINT "), clause.contains(" FOREIGN KEY ") {
                let name = firstIdentifier(in: clause.dropFirst("CONSTRAINT ".count)) ?? ""
                var key = foreignKeys[name] ?? MySQLForeignKey(name: name, clause: clause)
                key.clause = clause
                keys.append(key)
            } else if (isIndex || (isUnique && hasPrimaryKey)) && !startsWith(clause, column: autoIncrementColumn) {
                deferred.append(clause)
            } else {
                kept.append("  " + clause)
            }
        }
        let sql = lines[...open].joined(separator: "\n") + "\n" + kept.joined(separator: ",\n") + "\n"
            + lines[close...].joined(separator: "\n")
        return MySQLTableDefinition(name: table, createSQL: sql, deferredIndexes: deferred, foreignKeys: keys)
    }

    /// Whether an index clause's first key part is `column`.
    private static func startsWith(_ clause: String, column: String?) -> Bool {
        guard let column, let open = clause.firstIndex(of: "(") else { return false }
        return firstIdentifier(in: clause[clause.index(after: open)...]) == column
    }

    /// Every back-quoted name in the text.
    static func quotedNames(in text: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(text)
        while let name = firstIdentifier(in: rest) {
            names.insert(name)
            // Past the name's closing quote (doubled quotes inside count twice).
            let start = rest.firstIndex(of: "`")!
            let length = name.replacingOccurrences(of: "`", with: "``").count
            rest = rest[rest.index(start, offsetBy: length + 2)...]
        }
        return names
    }

    /// The first back-quoted name in the text.
    private static func firstIdentifier(in text: Substring) -> String? {
        guard let start = text.firstIndex(of: "`") else { return nil }
        var name = ""
        var index = text.index(after: start)
        while index < text.endIndex {
            if text[index] == "`" {
                let next = text.index(after: index)
                if next < text.endIndex && text[next] == "`" {
                    name.append("`")
                    index = text.index(after: next)
                    continue
                }
                return name
            }
            name.append(text[index])
            index = text.index(after: index)
        }
        return nil
    }
}
