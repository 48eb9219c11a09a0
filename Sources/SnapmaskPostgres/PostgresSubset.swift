import Snapmask

/// Subsets read the declared foreign keys from the catalog and their keys through the same COPY
/// as the rows, so a key's text is the same in both.
extension PostgresSource: SubsetReadingSource {
    /// Top-level constraints only (`conparentid = 0`): a partitioned table's foreign key is also
    /// cloned onto each partition, and the subset follows it once, under the parent's name.
    func foreignKeys() throws -> [ForeignKeyShape] {
        let rows = try withCoordinator { connection in
            try connection.execute("""
                SELECT c.oid::text, c.conname, cn.nspname || '.' || cc.relname, ca.attname,
                       pn.nspname || '.' || pc.relname, pa.attname
                  FROM pg_constraint c
                  JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
                  JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                  CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child, parent, position)
                  JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child
                  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent
                 WHERE c.contype = 'f' AND c.conparentid = 0
                 ORDER BY c.oid, k.position
                """, []).rows
        }
        return ForeignKeyShape.grouping(rows)
    }

    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector {
        try DelimitedFieldSelector(plan: plan, fields: fields, dialect: .postgres)
    }
}
