/// Who a database server says it is, for "is the target the source under another name?". Host
/// names cannot tell: an Aurora cluster's reader and writer endpoints, a DNS alias, an IP address
/// all name one server. Engines ask the server for an identity shared by every name of it (the
/// PostgreSQL system identifier, the MySQL server UUID, the members of an Aurora or replica-set
/// cluster); two identities are the same database when the database names match and the servers
/// share a member.
public struct ServerIdentity: Sendable, Equatable, CustomStringConvertible {
    /// What the identity is made of, for messages (`system identifier`, `cluster members`).
    public var kind: String
    /// One identifier, or every member of a cluster.
    public var servers: Set<String>
    public var database: String

    public init(kind: String, servers: Set<String>, database: String) {
        self.kind = kind
        self.servers = servers
        self.database = database
    }

    public func isSameDatabase(as other: ServerIdentity) -> Bool {
        database == other.database && !servers.isDisjoint(with: other.servers)
    }

    public var description: String { "\(kind) \(servers.sorted().joined(separator: ", ")), database \(database)" }
}

/// The target is the source: snapmask never writes into a source.
public struct TargetIsSource: Error, Sendable, CustomStringConvertible {
    public var target: String
    public var identity: ServerIdentity

    public init(target: String, identity: ServerIdentity) {
        self.target = target
        self.identity = identity
    }

    public var description: String {
        "the target \(target) is the source database under another name (both servers report the same "
            + "\(identity.kind)); snapmask never writes into a source: point target: at the staging server"
    }
}
