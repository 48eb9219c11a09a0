import Foundation
import Snapmask

/// The source's tables, views, routines and triggers inside a SchemaDefinition (JSON of
/// MySQLSchemaObjects), with the source database's name: foreign keys name it.
extension MySQLSchemaObjects {
    static let engine = "mysql"

    func definition(database: String) throws -> SchemaDefinition {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return SchemaDefinition(engine: Self.engine, sections: ["objects": String(decoding: try encoder.encode(self), as: UTF8.self)],
                                values: ["database": database])
    }

    /// The objects and the source database's name kept in a snapshot.
    static func from(_ definition: SchemaDefinition) throws -> (objects: MySQLSchemaObjects, database: String) {
        guard definition.engine == engine else {
            throw MySQLError("a MySQL target cannot restore a \(definition.engine) schema; restore this snapshot "
                                 + "with a job whose engine is \(definition.engine)")
        }
        guard let text = definition.sections["objects"], let database = definition.values["database"] else {
            throw MySQLError("the snapshot's schema has no MySQL objects; it was not made by a MySQL source")
        }
        do {
            return (try JSONDecoder().decode(MySQLSchemaObjects.self, from: Data(text.utf8)), database)
        } catch {
            throw MySQLError("the snapshot's MySQL schema cannot be read (\(error)); make a new snapshot with this version")
        }
    }
}
