import Foundation
import Snapmask

/// The real database servers the engine tests run against. `scripts/test` starts them and
/// exports their URLs; a missing URL fails the test (never skips it), so CI cannot pass by
/// testing nothing.
public enum TestServers {
    public struct Missing: Error, CustomStringConvertible {
        public var variable: String
        public var description: String {
            "\(variable) is not set: start the test servers with `eval \"$(scripts/services start)\"` "
                + "or run the suite with scripts/test"
        }
    }

    public static func postgres() throws -> ConnectionString { try url("SNAPMASK_TEST_POSTGRES_URL") }
    public static func mysql() throws -> ConnectionString { try url("SNAPMASK_TEST_MYSQL_URL") }
    public static func mongodb() throws -> ConnectionString { try url("SNAPMASK_TEST_MONGODB_URL") }

    /// The S3-compatible server (moto) and a bucket that exists on it.
    public static func s3() throws -> (endpoint: String, bucket: String) {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["SNAPMASK_TEST_S3_ENDPOINT"], !endpoint.isEmpty else {
            throw Missing(variable: "SNAPMASK_TEST_S3_ENDPOINT")
        }
        guard let bucket = environment["SNAPMASK_TEST_S3_BUCKET"], !bucket.isEmpty else {
            throw Missing(variable: "SNAPMASK_TEST_S3_BUCKET")
        }
        return (endpoint, bucket)
    }

    static func url(_ variable: String) throws -> ConnectionString {
        guard let raw = ProcessInfo.processInfo.environment[variable], !raw.isEmpty else { throw Missing(variable: variable) }
        return try ConnectionString(raw)
    }

    /// The same server with another database (or another path) in the URL.
    public static func replacingDatabase(of url: ConnectionString, with database: String) throws -> ConnectionString {
        var raw = url.raw
        let authorityStart = raw.range(of: "://")!.upperBound
        let pathStart = raw[authorityStart...].firstIndex(of: "/") ?? raw.endIndex
        let queryStart = raw[pathStart...].firstIndex(of: "?") ?? raw.endIndex
        raw.replaceSubrange(pathStart..<queryStart, with: "/" + database)
        return try ConnectionString(raw)
    }

    /// A name no other test uses, for databases and collections created by one test.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

extension TestServers {
    /// The CA that signed the test servers' certificates, and one that signed nothing of theirs.
    public static func caFile() throws -> String { try variable("SNAPMASK_TEST_CA_FILE") }
    public static func otherCAFile() throws -> String { try variable("SNAPMASK_TEST_OTHER_CA_FILE") }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    /// The Prometheus Pushgateway of scripts/services.
    public static func pushgateway() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["SNAPMASK_TEST_PUSHGATEWAY_URL"], !url.isEmpty else {
            throw Missing(variable: "SNAPMASK_TEST_PUSHGATEWAY_URL")
        }
        return url
    }
}
