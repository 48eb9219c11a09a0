import Foundation

/// Loads a folder in the format of fixtures/documentdb into a database: `collections.json` (a
/// list of `{name, options, indexes}`, in load order) and one `<name>.jsonl` of extended JSON per
/// collection. Each collection is dropped, created with its options, filled and indexed. For tests
/// and demos (fixtures/documentdb/load.py does the same with pymongo).
public enum DocumentDBFixture {
    public static func load(directory: URL, into client: DocumentDBClient, database: String,
                            only: Set<String>? = nil) throws {
        let text = try String(contentsOf: directory.appendingPathComponent("collections.json"), encoding: .utf8)
        // Parsed by libbson, which keeps key order (compound index keys depend on it).
        let definitions = try BSONDoc(bytes: try BSONDocument(json: "{\"d\": \(text)}").bytes)["d"]?.array ?? []
        for case let .document(definition) in definitions {
            guard let name = definition["name"]?.string, only?.contains(name) ?? true else { continue }
            do {
                try client.run(["drop": .string(name)], on: database)
            } catch let error as DocumentDBError where error.code == 26 {
                // NamespaceNotFound: MongoDB before 7.0 refuses to drop what is not there.
            }
            var create: BSONDoc = ["create": .string(name)]
            for (key, value) in definition["options"]?.document?.fields ?? [] { create[key] = value }
            try client.run(create, on: database)
            let lines = try String(contentsOf: directory.appendingPathComponent("\(name).jsonl"), encoding: .utf8)
            try client.insert(database: database, collection: name,
                              json: lines.split(separator: "\n").map(String.init).filter { !$0.isEmpty })
            if let indexes = definition["indexes"]?.array, !indexes.isEmpty {
                try client.run(["createIndexes": .string(name), "indexes": .array(indexes)], on: database)
            }
        }
    }
}
