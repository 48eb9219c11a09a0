import Snapmask

/// The PostgreSQL schema inside a SchemaDefinition: pg_dump's two sections, where every sequence
/// stood, and the materialized views to rebuild (dependencies first, as schema and name).
struct PostgresSchemaPayload: Codable {
    var preData: String
    var postData: String
    var sequences: [String: String]
    var materializedViews: [[String]]

    static func from(_ definition: SchemaDefinition) throws -> PostgresSchemaPayload {
        try definition.payload(PostgresSchemaPayload.self, for: .postgres)
    }
}
