import Foundation
import Snapmask

/// Materialized views arrive empty (`--schema-only` leaves their rows out, and the source's rows
/// are unmasked anyway). The shadow rebuilds them from its own masked rows: the source says which
/// ones were populated, in dependency order (a view on a view is built after it), and the target
/// refreshes them once the rows, indexes and overrides are in and before the leak check.
enum PostgresMaterializedViews {
    /// The key in the schema definition (and so in a snapshot's manifest).
    /// Populated materialized views, dependencies first, as (schema, name); `leftOut` are
    /// qualified names not in the shadow (they read foreign tables).
    static func refreshOrder(_ connection: PostgresConnection, leavingOut leftOut: Set<String>) throws -> [[String]] {
        let views = try connection.execute("""
            SELECT c.oid::text, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'm' AND c.relispopulated
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                  AND d.objid = c.oid AND d.deptype = 'e')
             ORDER BY n.nspname, c.relname
            """, []).rows.filter { !leftOut.contains("\($0[1]!).\($0[2]!)") }
        // Which materialized views each one reads, through any number of plain views.
        let edges = try connection.execute("""
            WITH RECURSIVE reads(view, oid) AS (
                SELECT c.oid, c.oid FROM pg_class c WHERE c.relkind = 'm'
              UNION
                SELECT reads.view, d.refobjid FROM reads
                  JOIN pg_rewrite r ON r.ev_class = reads.oid
                  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                  AND d.refclassid = 'pg_class'::regclass
                 WHERE d.refobjid <> reads.oid)
            SELECT reads.view::text, reads.oid::text FROM reads JOIN pg_class c ON c.oid = reads.oid
             WHERE c.relkind = 'm' AND reads.oid <> reads.view
            """, []).rows
        var readsFrom: [String: Set<String>] = [:]
        for edge in edges { readsFrom[edge[0]!, default: []].insert(edge[1]!) }

        var ordered: [[String]] = [], done = Set<String>(), visiting = Set<String>()
        let byOID = Dictionary(uniqueKeysWithValues: views.map { ($0[0]!, [$0[1]!, $0[2]!]) })
        func visit(_ oid: String) {
            guard !done.contains(oid), !visiting.contains(oid) else { return }
            visiting.insert(oid)
            for dependency in (readsFrom[oid] ?? []).sorted() { visit(dependency) }
            visiting.remove(oid)
            done.insert(oid)
            if let name = byOID[oid] { ordered.append(name) }
        }
        for view in views { visit(view[0]!) }
        return ordered
    }

    /// Refreshes and analyzes each view in order.
    static func refresh(_ views: [[String]], on connection: PostgresConnection) throws {
        for view in views {
            let name = PostgresIdentifier.quoted(view[0]) + "." + PostgresIdentifier.quoted(view[1])
            do {
                try connection.execute("REFRESH MATERIALIZED VIEW \(name)", [])
                try connection.execute("ANALYZE \(name)", [])
            } catch let error as PostgresError {
                throw error.adding(context: "building materialized view \(view[0]).\(view[1]) from the masked rows")
            }
        }
    }
}
