import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

@Suite struct PostgresConnectionTests {
    @Test func connectsAndQueriesThroughLibpq() throws {
        let connection = try PostgresConnection(url: try TestServers.postgres())
        #expect(connection.serverVersion >= 150_000)
        #expect(try connection.scalar("SELECT 40 + 2") == "42")
        #expect(try connection.scalar("SELECT $1::text || $2", ["snap", "mask"]) == "snapmask")
        #expect(try connection.execute("SELECT NULL::text").value(row: 0, column: 0) == nil)
    }

    @Test func reportsSQLErrorsWithSQLState() throws {
        let connection = try PostgresConnection(url: try TestServers.postgres())
        #expect {
            try connection.execute("SELECT * FROM no_such_table_here")
        } throws: { error in
            (error as? PostgresError)?.sqlState == "42P01"
        }
    }

    @Test func refusedConnectionNamesTheServerButNotThePassword() throws {
        let url = try ConnectionString("postgres://reader:Sup3rSecretPw@127.0.0.1:1/app")
        do {
            _ = try PostgresConnection(url: url, connectTimeout: 2)
            Issue.record("connecting to a closed port succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("127.0.0.1"))
            #expect(!text.contains("Sup3rSecretPw"))
        }
    }
}
