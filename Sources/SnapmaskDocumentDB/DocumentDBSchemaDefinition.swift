import Foundation
import Snapmask

/// Each collection's options (`create`) and indexes (`createIndexes`) inside a SchemaDefinition:
/// their BSON in base64, so every type (collations, validators with regexes, TTL numbers) comes
/// back exactly as listCollections and listIndexes gave it.
struct DocumentDBSchemaDefinition: Codable {
    struct Collection: Codable {
        var name: String
        var options: String
        var indexes: [String]
    }

    var collections: [Collection]

    init(_ definition: SchemaDefinition) throws {
        self = try definition.payload(DocumentDBSchemaDefinition.self, for: .documentdb)
    }

    private init(collections: [Collection]) {
        self.collections = collections
    }

    static func make(_ infos: [CollectionInfo]) throws -> SchemaDefinition {
        try SchemaDefinition(engine: .documentdb, payload: DocumentDBSchemaDefinition(collections: infos.map { info in
            Collection(name: info.name, options: encode(info.options), indexes: info.indexes.map(encode))
        }))
    }

    func options(of collection: String) throws -> BSONDoc {
        try Self.decode(collections.first { $0.name == collection }?.options)
    }

    func indexes(of collection: String) throws -> [BSONDoc] {
        try (collections.first { $0.name == collection }?.indexes ?? []).map { try Self.decode($0) }
    }

    static func encode(_ document: BSONDoc) -> String {
        var writer = BSONWriter()
        BSONDoc.encode(document, into: &writer)
        return Data(writer.bytes).base64EncodedString()
    }

    static func decode(_ text: String?) throws -> BSONDoc {
        guard let text else { return [:] }
        guard let data = Data(base64Encoded: text) else {
            throw DocumentDBError("the stored schema holds an option or index that is not base64 BSON; make a new snapshot")
        }
        return try BSONDoc(bytes: Array(data))
    }
}
