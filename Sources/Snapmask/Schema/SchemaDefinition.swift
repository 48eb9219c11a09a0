import Foundation

/// Everything a target needs to recreate the source's schema, kept in snapshots so a restore from
/// one needs no access to the source: the engine's own description (PostgreSQL's pg_dump sections
/// and sequence values, MySQL's CREATE statements, DocumentDB's options and indexes) as a typed
/// payload that only that engine's driver reads, and what the plan did to each table's rows.
public struct SchemaDefinition: Sendable, Codable, Equatable {
    /// Bumped whenever the layout changes; another version is refused, never half-read.
    public static let currentFormat = 2

    public var formatVersion: Int
    public var engine: Engine
    /// The engine's payload, as its driver encodes it.
    public var payload: Data
    /// Per table: what the copy changed about its rows.
    public var tables: [String: TableChanges]

    /// A snapshot restore plans no masking and no `where:`, yet a target may need to know which
    /// columns hold transformer output (stored differently from the column's own type) and which
    /// tables lost rows (references into them can break).
    public struct TableChanges: Sendable, Codable, Equatable {
        /// Masked columns and their transformers.
        public var maskedColumns: [String: String]
        /// `where:` or `data: skip` left rows out.
        public var rowsLeftOut: Bool
    }

    public init(engine: Engine, payload: some Encodable) throws {
        formatVersion = Self.currentFormat
        self.engine = engine
        self.payload = try Self.encoder.encode(payload)
        tables = [:]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        guard formatVersion == Self.currentFormat else {
            throw SchemaDefinitionError("the stored schema is format \(formatVersion), and this snapmask reads format "
                                            + "\(Self.currentFormat); make a new snapshot with this release")
        }
        engine = try container.decode(Engine.self, forKey: .engine)
        payload = try container.decode(Data.self, forKey: .payload)
        tables = try container.decode([String: TableChanges].self, forKey: .tables)
    }

    /// The engine's payload; a definition of another engine or one that does not decode is an
    /// error saying so (never an empty schema).
    public func payload<Payload: Decodable>(_ type: Payload.Type, for expected: Engine) throws -> Payload {
        guard engine == expected else {
            throw SchemaDefinitionError("a \(expected.rawValue) target cannot restore a \(engine.rawValue) schema; restore "
                                            + "this snapshot with a job whose engine is \(engine.rawValue)")
        }
        do {
            return try JSONDecoder().decode(type, from: payload)
        } catch {
            throw SchemaDefinitionError("the stored \(engine.rawValue) schema cannot be read (\(error)); make a new snapshot "
                                            + "with this release")
        }
    }

    public mutating func record(_ plan: RestorePlan) {
        for table in plan.tables {
            let masked = Dictionary(table.maskedColumns.map { ($0.name, $0.transformer.name) }, uniquingKeysWith: { first, _ in first })
            let leftOut = table.skipData || table.whereClause != nil
            if !masked.isEmpty || leftOut { tables[table.name] = TableChanges(maskedColumns: masked, rowsLeftOut: leftOut) }
        }
    }

    /// The columns of the table that were masked when the snapshot was made, with their transformers.
    public func maskedColumns(of table: String) -> [String: String] { tables[table]?.maskedColumns ?? [:] }

    /// Whether the snapshot holds only some of the table's rows (`where:` or `data: skip`).
    public func leftOutRows(of table: String) -> Bool { tables[table]?.rowsLeftOut ?? false }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

public struct SchemaDefinitionError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
