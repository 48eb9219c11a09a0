import Foundation

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

/// What the snapshot's plan did to each table's rows, kept with its schema: a restore from the
/// snapshot plans no masking and no `where:`, yet a target may need to know which columns hold
/// transformer output (it can be stored differently from the column's own type) and which
/// tables lost rows (references into them can break).
extension SchemaDefinition {
    private static let maskedPrefix = "masked-columns:", leftOutPrefix = "rows-left-out:"

    public mutating func record(_ plan: RestorePlan) {
        for table in plan.tables {
            let masked = Dictionary(table.maskedColumns.map { ($0.name, $0.transformer.name) }, uniquingKeysWith: { first, _ in first })
            if !masked.isEmpty, let text = try? Self.sortedEncoder.encode(masked) {
                values[Self.maskedPrefix + table.name] = String(decoding: text, as: UTF8.self)
            }
            if table.skipData || table.whereClause != nil {
                values[Self.leftOutPrefix + table.name] = table.skipData ? "data: skip" : "where"
            }
        }
    }

    /// The columns of the table that were masked when the snapshot was made, with their transformers.
    public func maskedColumns(of table: String) -> [String: String] {
        guard let text = values[Self.maskedPrefix + table] else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    private static var sortedEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    /// Whether the snapshot holds only some of the table's rows (`where:` or `data: skip`).
    public func leftOutRows(of table: String) -> Bool {
        values[Self.leftOutPrefix + table] != nil
    }
}
