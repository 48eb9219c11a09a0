import Foundation
import Testing
@testable import Snapmask

/// The stored schema is typed per engine, its format is checked, and nothing that fails to
/// decode is taken for an empty schema.
@Suite struct SchemaDefinitionTests {
    struct Payload: Codable, Equatable {
        var text: String
    }

    @Test func roundTripsThroughJSONWithItsEngineAndFormat() throws {
        var definition = try SchemaDefinition(engine: .mysql, payload: Payload(text: "CREATE TABLE t (id int)"))
        definition.tables["t"] = .init(maskedColumns: ["email": "email"], rowsLeftOut: true)
        let decoded = try JSONDecoder().decode(SchemaDefinition.self, from: try JSONEncoder().encode(definition))
        #expect(decoded == definition)
        #expect(try decoded.payload(Payload.self, for: .mysql) == Payload(text: "CREATE TABLE t (id int)"))
        #expect(decoded.maskedColumns(of: "t") == ["email": "email"] && decoded.leftOutRows(of: "t"))
    }

    @Test func anotherFormatAnotherEngineOrABrokenPayloadIsRefused() throws {
        let definition = try SchemaDefinition(engine: .mysql, payload: Payload(text: "x"))
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(definition)) as? [String: Any])
        json["formatVersion"] = 1
        #expect { try JSONDecoder().decode(SchemaDefinition.self, from: JSONSerialization.data(withJSONObject: json)) } throws: {
            "\($0)".contains("format 1") && "\($0)".contains("make a new snapshot")
        }
        #expect { try definition.payload(Payload.self, for: .postgres) } throws: {
            "\($0)".contains("a postgres target cannot restore a mysql schema")
        }
        struct Other: Codable { var number: Int }
        #expect { try definition.payload(Other.self, for: .mysql) } throws: { "\($0)".contains("cannot be read") }
    }
}
