import Snapmask

/// Subsets read the declared foreign keys from information_schema and their keys through the
/// same SELECT as the rows, so a key's text is the same in both.
extension MySQLSource: SubsetReadingSource {
    func foreignKeys() throws -> [ForeignKeyShape] {
        let rows = try withConnection { connection in
            try connection.query("""
                SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
                  FROM information_schema.KEY_COLUMN_USAGE
                 WHERE TABLE_SCHEMA = \(connection.literal(database)) AND REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA
                   AND REFERENCED_TABLE_NAME IS NOT NULL
                 ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
                """)
        }
        var keys: [ForeignKeyShape] = []
        for row in rows {
            guard row.count == 5, let name = row[0], let child = row[1], let childColumn = row[2], let parent = row[3],
                  let parentColumn = row[4] else { continue }
            if keys.last?.name != name || keys.last?.child != child {
                keys.append(ForeignKeyShape(name: name, child: child, childColumns: [], parent: parent, parentColumns: []))
            }
            keys[keys.count - 1].childColumns.append(childColumn)
            keys[keys.count - 1].parentColumns.append(parentColumn)
        }
        return keys
    }

    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector {
        try DelimitedFieldSelector(plan: plan, fields: fields, dialect: .mysql)
    }
}
