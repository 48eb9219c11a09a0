import Snapmask

/// Subsets read the declared foreign keys from information_schema and their keys through the
/// same SELECT as the rows, so a key's text is the same in both.
extension MySQLSource: SubsetReadingSource {
    func foreignKeys() throws -> [ForeignKeyShape] {
        let rows = try withConnection { connection in
            try connection.query("""
                SELECT CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME), CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME,
                       REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
                  FROM information_schema.KEY_COLUMN_USAGE
                 WHERE TABLE_SCHEMA = \(connection.literal(database)) AND REFERENCED_TABLE_SCHEMA = TABLE_SCHEMA
                   AND REFERENCED_TABLE_NAME IS NOT NULL
                 ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION
                """)
        }
        // A constraint's name is unique per table only: the id pairs the two.
        return ForeignKeyShape.grouping(rows)
    }

    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector {
        try DelimitedFieldSelector(plan: plan, fields: fields, dialect: .mysql)
    }
}
