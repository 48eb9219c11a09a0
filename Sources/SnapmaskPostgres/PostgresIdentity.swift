import Snapmask

/// A PostgreSQL server's identity: its system identifier, which every physical replica shares
/// (a streaming standby, an Aurora reader) and no other cluster has; on Aurora, where the control
/// file functions may be missing, the instances of the cluster; else the postmaster's start time
/// and address, which tell servers apart though not the members of one cluster.
enum PostgresIdentity {
    /// `database`: the database meant (nil: the one connected to).
    static func of(_ connection: PostgresConnection, database: String?) throws -> ServerIdentity {
        let name = try database ?? connection.scalar("SELECT current_database()") ?? ""
        if let system = try? connection.scalar("SELECT system_identifier::text FROM pg_control_system()") {
            return ServerIdentity(kind: "system identifier", servers: [system], database: name)
        }
        if let members = try? connection.execute("SELECT server_id FROM aurora_replica_status()").rows.compactMap({ $0[0] }),
           !members.isEmpty {
            return ServerIdentity(kind: "Aurora cluster instances", servers: Set(members), database: name)
        }
        let started = try connection.scalar("""
            SELECT pg_postmaster_start_time()::text || ' ' || COALESCE(host(inet_server_addr()), 'local') || ':'
                   || COALESCE(inet_server_port()::text, '')
            """) ?? ""
        return ServerIdentity(kind: "start time and address", servers: [started], database: name)
    }
}
