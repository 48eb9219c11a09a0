import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

@Suite struct DocumentDBClientTests {
    @Test func pingsAndReadsBuildInfoThroughLibmongoc() throws {
        let client = try DocumentDBClient(url: try TestServers.mongodb())
        let ping = try client.command(#"{"ping": 1}"#, database: "admin")
        #expect(ping.contains(#""ok""#))
        let info = try client.command(#"{"buildInfo": 1}"#, database: "admin")
        #expect(info.contains(#""version""#))
    }

    @Test func invalidCommandDocumentIsAClearError() throws {
        #expect(throws: DocumentDBError.self) { try BSONDocument(json: "{not json") }
    }
}
