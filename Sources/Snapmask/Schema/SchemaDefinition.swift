/// Everything a target needs to recreate the source's schema, in the engine's own terms
/// (PostgreSQL: the pg_dump sections and sequence values; MySQL: CREATE statements; DocumentDB:
/// indexes and collection options). Opaque to the core; kept in snapshot manifests so a restore
/// from a snapshot needs no access to the source.
public struct SchemaDefinition: Sendable, Codable, Equatable {
    public var engine: String
    /// Named pieces of schema text, e.g. `pre-data` and `post-data`.
    public var sections: [String: String]
    /// Named values taken with the data, e.g. sequence positions.
    public var values: [String: String]

    public init(engine: String, sections: [String: String] = [:], values: [String: String] = [:]) {
        self.engine = engine
        self.sections = sections
        self.values = values
    }
}
