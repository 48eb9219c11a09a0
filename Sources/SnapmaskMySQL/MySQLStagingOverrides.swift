import Snapmask

extension MySQLTarget {
    /// Overrides on the live staging database, in one transaction, in the load's strict SQL mode
    /// (the caller holds the target's lock).
    func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        let connection = try MySQLConnection(url: url, purpose: "snapmask overrides")
        try connection.query("SET SESSION sql_mode = '\(MySQLTarget.loadSQLMode)'")
        return try MySQLOverrides.apply(overrides, on: connection, database: database)
    }
}
