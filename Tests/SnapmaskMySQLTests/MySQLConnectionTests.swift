import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

@Suite struct MySQLConnectionTests {
    @Test func connectsAndQueriesThroughLibmysqlclient() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql())
        #expect(!connection.serverVersion.isEmpty)
        #expect(try connection.scalar("SELECT 40 + 2") == "42")
        #expect(try connection.query("SELECT NULL, 'x'") == [[nil, "x"]])
    }

    @Test func literalsRoundTripEveryAwkwardCharacter() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql())
        let awkward = "it's a \"test\"\\ with\ttab\nnewline and 😀"
        #expect(try connection.scalar("SELECT \(connection.literal(awkward))") == awkward)
    }

    @Test func refusedConnectionDoesNotShowThePassword() throws {
        let url = try ConnectionString("mysql://reader:Sup3rSecretPw@127.0.0.1:1/app")
        do {
            _ = try MySQLConnection(url: url, connectTimeout: 2)
            Issue.record("connecting to a closed port succeeded")
        } catch {
            #expect(!"\(error)".contains("Sup3rSecretPw"))
            #expect("\(error)".contains("127.0.0.1"))
        }
    }
}
