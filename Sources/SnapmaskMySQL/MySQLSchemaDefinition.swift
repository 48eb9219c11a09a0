import Snapmask

/// The source's tables, views, routines and triggers inside a SchemaDefinition, with the source
/// database's name: foreign keys name it.
struct MySQLSchemaPayload: Codable {
    var objects: MySQLSchemaObjects
    var database: String
}

extension MySQLSchemaObjects {
    func definition(database: String) throws -> SchemaDefinition {
        try SchemaDefinition(engine: .mysql, payload: MySQLSchemaPayload(objects: self, database: database))
    }

    /// The objects and the source database's name kept in a snapshot.
    static func from(_ definition: SchemaDefinition) throws -> (objects: MySQLSchemaObjects, database: String) {
        let payload = try definition.payload(MySQLSchemaPayload.self, for: .mysql)
        return (payload.objects, payload.database)
    }
}
