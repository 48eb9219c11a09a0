import Snapmask

/// Subsets read the declared foreign keys from the catalog and their keys through the same COPY
/// as the rows, so a key's text is the same in both.
extension PostgresSource: SubsetReadingSource {
    /// Top-level constraints only (`conparentid = 0`): a partitioned table's foreign key is also
    /// cloned onto each partition, and the subset follows it once, under the parent's name.
    func foreignKeys() throws -> [ForeignKeyShape] {
        let rows = try withCoordinator { connection in
            try connection.execute("""
                SELECT c.oid::text, c.conname, cn.nspname || '.' || cc.relname, pn.nspname || '.' || pc.relname,
                       ca.attname, pa.attname
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
        var keys: [ForeignKeyShape] = []
        var current: String?
        for row in rows {
            guard row.count == 6, let oid = row[0], let name = row[1], let child = row[2], let parent = row[3],
                  let childColumn = row[4], let parentColumn = row[5] else { continue }
            if oid != current {
                current = oid
                keys.append(ForeignKeyShape(name: name, child: child, childColumns: [], parent: parent, parentColumns: []))
            }
            keys[keys.count - 1].childColumns.append(childColumn)
            keys[keys.count - 1].parentColumns.append(parentColumn)
        }
        return keys
    }

    func fieldSelector(for plan: TablePlan, fields: [String]) throws -> any RowFieldSelector {
        try DelimitedFieldSelector(plan: plan, fields: fields, dialect: .postgres)
    }
}
