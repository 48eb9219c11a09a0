import Snapmask

/// Primary keys, unique indexes and unique constraints, as `check` needs them: which columns a
/// masked value must stay distinct in. Only key columns count (`INCLUDE` columns take no part in
/// uniqueness). A key with an expression (`lower("LastName")`) is reported with the columns the
/// expression reads, found in pg_depend (which records them for every index expression); for a
/// partial index pg_depend also holds the predicate's columns, so those are kept only when the
/// key's own text names them.
enum PostgresUniqueKeys {
    struct Keys {
        var primaryKeys: [String: [String]] = [:]
        var uniqueKeys: [String: [[String]]] = [:]
        var expressionIndexes: [String: [UniqueExpressionIndex]] = [:]
    }

    /// `oids` is an `oid[]` literal; `columns` the tables' column names by oid.
    static func read(_ connection: PostgresConnection, oids: String, columns: [String: [String]]) throws -> Keys {
        let rows = try connection.execute("""
            SELECT i.indrelid::text, i.indisprimary::text, ic.relname,
                   array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                          WHERE k.ord <= i.indnkeyatts ORDER BY k.ord), chr(1)),
                   e.has_expression::text,
                   -- pg_get_indexdef locks the table, so it is only asked for the keys that need it.
                   CASE WHEN e.has_expression
                        THEN array_to_string(ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                                                     FROM generate_series(1, i.indnkeyatts::int) AS k), ', ') END,
                   array_to_string(ARRAY(SELECT a.attname FROM pg_depend d
                                           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                          WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                                            AND d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid
                                            AND d.refobjsubid > 0 AND NOT a.attisdropped
                                          ORDER BY a.attnum), chr(1)),
                   (i.indpred IS NOT NULL)::text
              FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                                 WHERE k.ord <= i.indnkeyatts AND k.attnum = 0) AS has_expression) e
             WHERE i.indisunique AND i.indrelid = ANY($1::oid[])
             ORDER BY ic.relname
            """, [oids]).rows
        var keys = Keys()
        for row in rows {
            let table = row[0]!
            let plain = split(row[3]!)
            guard row[4] == "true" else {
                if row[1] == "true" { keys.primaryKeys[table] = plain }
                keys.uniqueKeys[table, default: []].append(plain)
                continue
            }
            let key = row[5] ?? "", partial = row[7] == "true"
            let names = identifiers(in: key)
            var read = split(row[6]!).filter { !partial || names.contains($0) }
            // A whole-row reference (`t.*`) reads every column; an expression pg_depend found no
            // column in is treated the same way rather than as reading none.
            if key.contains(".*") || read.isEmpty { read = columns[table] ?? [] }
            let involved = plain + read.filter { !plain.contains($0) }
            keys.expressionIndexes[table, default: []].append(UniqueExpressionIndex(name: row[2]!, key: key, columns: involved))
        }
        return keys
    }

    private static func split(_ text: String) -> [String] {
        text.split(separator: "\u{1}").map(String.init)
    }

    /// The identifiers in an expression as pg_get_indexdef prints it: bare lower-case words and
    /// "quoted" names; string literals are skipped.
    static func identifiers(in expression: String) -> Set<String> {
        var names = Set<String>()
        let characters = Array(expression)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "'" || character == "\"" {
                var text = ""
                index += 1
                while index < characters.count {
                    if characters[index] == character {
                        if index + 1 < characters.count && characters[index + 1] == character {
                            text.append(character)
                            index += 2
                            continue
                        }
                        break
                    }
                    text.append(characters[index])
                    index += 1
                }
                if character == "\"" { names.insert(text) }
                index += 1
            } else if character.isLetter || character == "_" {
                var word = ""
                while index < characters.count,
                      characters[index].isLetter || characters[index].isNumber || characters[index] == "_" || characters[index] == "$" {
                    word.append(characters[index])
                    index += 1
                }
                names.insert(word)
            } else {
                index += 1
            }
        }
        return names
    }
}
