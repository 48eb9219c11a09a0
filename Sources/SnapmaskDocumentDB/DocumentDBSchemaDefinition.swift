import Foundation
import Snapmask

/// A collection's options (`create`) and indexes (`createIndexes`) inside a SchemaDefinition:
/// their BSON in base64, so every type (collations, validators with regexes, TTL numbers) comes
/// back exactly as listCollections and listIndexes gave it.
struct DocumentDBSchemaDefinition {
    let definition: SchemaDefinition

    init(_ definition: SchemaDefinition) throws {
        guard definition.engine == "documentdb" else {
            throw DocumentDBError("a DocumentDB target cannot restore a \(definition.engine) schema")
        }
        self.definition = definition
    }

    static func make(_ collections: [CollectionInfo]) -> SchemaDefinition {
        var definition = SchemaDefinition(engine: "documentdb")
        for collection in collections {
            definition.sections["options:" + collection.name] = encode(collection.options)
            definition.sections["indexes:" + collection.name] = encode(["indexes": .array(collection.indexes.map { .document($0) })])
        }
        return definition
    }

    func options(of collection: String) -> BSONDoc {
        (try? Self.decode(definition.sections["options:" + collection])) ?? [:]
    }

    func indexes(of collection: String) -> [BSONDoc] {
        guard case let .array(items)? = (try? Self.decode(definition.sections["indexes:" + collection]))?["indexes"] else { return [] }
        return items.compactMap(\.document)
    }

    static func encode(_ document: BSONDoc) -> String {
        var writer = BSONWriter()
        BSONDoc.encode(document, into: &writer)
        return Data(writer.bytes).base64EncodedString()
    }

    static func decode(_ text: String?) throws -> BSONDoc {
        guard let text, let data = Data(base64Encoded: text) else { return [:] }
        return try BSONDoc(bytes: Array(data))
    }
}
