import CMongoC
import Foundation
import Snapmask

/// libmongoc's global state, initialized once per process before the first client.
enum MongoC {
    static let initialized: Bool = {
        mongoc_init()
        return true
    }()
}

/// One libmongoc client (`mongoc_client_t *`), destroyed in `deinit`. Used by one task at a time.
public final class DocumentDBClient {
    let handle: OpaquePointer
    public let displayName: String
    /// The database named in the URL path.
    public let databaseName: String?

    public init(url: ConnectionString, applicationName: String = "snapmask") throws {
        _ = MongoC.initialized
        displayName = url.description
        databaseName = url.database
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url.raw, &error) else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                  context: "invalid MongoDB URL \(url.description)")
        }
        defer { mongoc_uri_destroy(uri) }
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 15_000)
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 10_000)
        guard let client = mongoc_client_new_from_uri_with_error(uri, &error) else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                  context: "cannot create a client for \(url.description)")
        }
        mongoc_client_set_appname(client, applicationName)
        mongoc_client_set_error_api(client, 2)
        handle = client
    }

    deinit { mongoc_client_destroy(handle) }

    /// Runs a command document (extended JSON) on `database` and returns the reply as relaxed
    /// extended JSON.
    @discardableResult
    public func command(_ json: String, database: String) throws -> String {
        let command = try BSONDocument(json: json)
        let reply = BSONOutput()
        var error = bson_error_t()
        let ok = mongoc_client_command_simple(handle, database, command.handle, nil, reply.pointer, &error)
        reply.markInitialized()
        guard ok else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                  context: "command on \(displayName)")
        }
        return reply.json
    }
}
