import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB
@testable import SnapmaskMySQL
@testable import SnapmaskPostgres

/// The engines the shared failure scenarios run against.
enum FailureEngine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case postgres, mysql, documentdb

    /// The engines with tables, columns and `where:` conditions.
    static let relational: [FailureEngine] = [.postgres, .mysql]

    var testDescription: String { rawValue }

    /// Scratch databases of this engine for one test (nothing created yet).
    func fixture(_ label: String) throws -> any EngineFixture {
        switch self {
        case .postgres: return try PostgresFixture("pg\(label)")
        case .mysql: return try MySQLFixture("my\(label)")
        case .documentdb: return try DocumentDBFixture("doc\(label)")
        }
    }

    func relationalFixture(_ label: String) throws -> any RelationalFixture {
        switch self {
        case .postgres: return try PostgresFixture("pg\(label)")
        case .mysql: return try MySQLFixture("my\(label)")
        case .documentdb: throw ConfigError("DocumentDB has no tables to run a relational scenario on")
        }
    }

    /// A job whose source and target cannot be reached, with passwords in both URLs.
    func unreachableJob() throws -> TestJob {
        switch self {
        case .postgres:
            return try TestJob(engine: .postgres, source: "postgres://reader:Pr0dSecret@127.0.0.1:1/app",
                               target: "postgres://writer:St4geSecret@127.0.0.1:2/app", rules: PostgresFailureFixture.rules())
        case .mysql:
            return try TestJob(engine: .mysql, source: "mysql://reader:Pr0dSecret@127.0.0.1:1/app",
                               target: "mysql://writer:St4geSecret@127.0.0.1:2/app", rules: MySQLFailureFixture.rules())
        case .documentdb:
            return try TestJob(database: "messages", engine: .documentdb,
                               source: "mongodb://reader:Pr0dSecret@127.0.0.1:1/messages?serverSelectionTimeoutMS=1000",
                               target: "mongodb://writer:St4geSecret@127.0.0.1:2/messages?serverSelectionTimeoutMS=1000",
                               rules: DocumentDBFailureFixture.rules)
        }
    }
}

/// One engine's scratch databases for one test, and how the scenarios act on them.
protocol EngineFixture: AnyObject {
    /// Creates the source and fills it with people; `killable`: one whose reading session
    /// `killSourceSession` can end mid-stream. Returns its URL.
    @discardableResult
    func createSource(killable: Bool) throws -> ConnectionString
    /// Staging as a DBA left it, which a failed run must leave exactly so.
    func markStaging() throws
    func checkStagingUntouched(sourceLocation: Testing.SourceLocation) throws
    /// A job from the source to staging with the scenarios' rules.
    func job(overrides: String?) throws -> TestJob
    /// A job from the source to `target`, another address of the source's server.
    func job(target: String) throws -> TestJob
    func drop()

    /// Starts a restore of the killable source (slowed down, or watched batch by batch).
    func startRestoreOfTheKillableSource() throws -> OutcomeBox<RestoreReport>
    /// Ends the session reading the source while the copy runs; true when it did.
    func killSourceSession() throws -> Bool
    /// What the failed copy names: the table and how its stream broke.
    var brokenStreamText: String { get }

    /// Takes staging's lock as another run does; the texts the refused run must show, and how
    /// to give the lock back.
    func holdStagingLock() throws -> (refusal: [String], release: () -> Void)

    /// `127.0.0.1` spelled so that the job file itself tells it is the same address.
    var sameHostSpelling: String { get }
    /// The source is as it was and nothing else was created.
    func checkSourceAloneAndUntouched(sourceLocation: Testing.SourceLocation) throws

    /// An override that puts originals back, and the masked column the leak check names.
    var leakingOverride: String { get }
    var maskedColumn: String { get }

    /// Overrides whose last step fails, and whether an error reports it as expected.
    var failingOverrides: String { get }
    func isFailingOverrideError(_ error: any Error) -> Bool

    /// What deletes one row of the people table (collection) from the shadow copy, committed;
    /// and the table's name and source row count as the count check reports them.
    func shadowRowDeletion() throws -> @Sendable () throws -> Void
    var countedTable: (name: String, rows: Int) { get }
}

/// The engines with tables: a column added to the source, a `where:` condition.
protocol RelationalFixture: EngineFixture {
    /// Creates the source, then runs `sql` in it.
    func createSource(then sql: String) throws
    func job(where condition: String) throws -> TestJob
    /// The people table as the check names it.
    var table: String { get }
}

extension EngineFixture {
    func expectStagingUntouched(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        try checkStagingUntouched(sourceLocation: sourceLocation)
    }

    func expectSourceAloneAndUntouched(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        try checkSourceAloneAndUntouched(sourceLocation: sourceLocation)
    }

    func job() throws -> TestJob { try job(overrides: nil) }
}

// MARK: - Engines with SQL

/// A scratch server whose databases are made from SQL scripts.
protocol SQLScratch {
    func url(_ suffix: String, create: Bool, sql: String?) throws -> ConnectionString
    func drop()
}

extension PostgresScratch: SQLScratch {}
extension MySQLScratch: SQLScratch {}

/// What the PostgreSQL and MySQL fixtures share: a source made from a script, rules with an
/// optional `where:`, and a `where:` that slows reading the table down.
protocol SQLFailureFixture: RelationalFixture {
    associatedtype Scratch: SQLScratch
    var scratch: Scratch { get }
    static var engine: Engine { get }
    static var sourceSQL: String { get }
    static func rules(where condition: String?) -> String
    /// A `where:` that slows the stream to about 3 s, so the reader is surely mid-table when killed.
    static var slowRead: String { get }
}

extension SQLFailureFixture {
    func createSource(killable: Bool) throws -> ConnectionString {
        try scratch.url("src", create: true, sql: Self.sourceSQL)
    }

    func createSource(then sql: String) throws {
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + sql)
    }

    func job(overrides: String?) throws -> TestJob {
        try job(target: staging(), rules: Self.rules(where: nil), overrides: overrides)
    }

    func job(where condition: String) throws -> TestJob {
        try job(target: staging(), rules: Self.rules(where: condition), overrides: nil)
    }

    func job(target: String) throws -> TestJob {
        try job(target: target, rules: Self.rules(where: nil), overrides: nil)
    }

    private func staging() throws -> String { try scratch.url("stage", create: false, sql: nil).raw }

    private func job(target: String, rules: String, overrides: String?) throws -> TestJob {
        try TestJob(engine: Self.engine, source: scratch.url("src", create: false, sql: nil).raw, target: target,
                    rules: rules, overrides: overrides)
    }

    func drop() { scratch.drop() }

    func startRestoreOfTheKillableSource() throws -> OutcomeBox<RestoreReport> {
        let job = try self.job(where: Self.slowRead)
        return OutcomeBox.start {
            defer { job.remove() }
            return try job.restore()
        }
    }
}

// MARK: - PostgreSQL

final class PostgresFixture: SQLFailureFixture {
    static let engine = Engine.postgres
    static let sourceSQL = PostgresFailureFixture.sourceSQL
    static func rules(where condition: String?) -> String { PostgresFailureFixture.rules(where: condition) }
    static let slowRead = "pg_sleep(0.001) IS NOT NULL"

    let scratch: PostgresScratch

    init(_ label: String) throws {
        scratch = try PostgresScratch(label)
    }

    func markStaging() throws { try PostgresFailureFixture.markStaging(scratch) }

    func checkStagingUntouched(sourceLocation: Testing.SourceLocation) throws {
        try PostgresFailureFixture.expectStagingUntouched(scratch, sourceLocation: sourceLocation)
    }

    func killSourceSession() throws -> Bool {
        let admin = try PostgresConnection(url: scratch.server)
        return try eventually {
            try !admin.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = 'snapmask read public.big' AND state = 'active'
                """, ["\(scratch.prefix)_src"]).rows.isEmpty
        }
    }

    let brokenStreamText = "public.big"

    func holdStagingLock() throws -> (refusal: [String], release: () -> Void) {
        let holder = try PostgresTarget(url: try scratch.url("stage"))
        try holder.lock()
        return (["another snapmask run is restoring \(scratch.prefix)_stage", "snapmask restore", "since"], { holder.unlock() })
    }

    let sameHostSpelling = "[::1]"

    func checkSourceAloneAndUntouched(sourceLocation: Testing.SourceLocation) throws {
        #expect(try scratch.rows("src", "SELECT count(*) FROM big") == [["3000"]], sourceLocation: sourceLocation)
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"], sourceLocation: sourceLocation)
    }

    // Every row gets its original back, so whichever rows the (random) leak sample picks leak.
    let leakingOverride = """
        - table: public.big
          set: { email: { sql: "'person' || id || '@corp.example.org'" } }
        """
    let maskedColumn = "public.big.email"

    let failingOverrides = """
        - table: public.big
          set: { no_such_column: 1 }
        """

    func isFailingOverrideError(_ error: any Error) -> Bool {
        "\(error)".contains("overrides.yaml:1:3") && "\(error)".contains("no_such_column")
    }

    let table = "public.big"

    func shadowRowDeletion() throws -> @Sendable () throws -> Void {
        let shadow = try PostgresTarget(url: try scratch.url("stage")).shadowName
        let url = try TestServers.replacingDatabase(of: scratch.server, with: shadow)
        return { try PostgresConnection(url: url).execute("DELETE FROM big WHERE id = (SELECT min(id) FROM big)") }
    }

    let countedTable = (name: "public.big", rows: 3000)
}

// MARK: - MySQL

final class MySQLFixture: SQLFailureFixture {
    static let engine = Engine.mysql
    static let sourceSQL = MySQLFailureFixture.sourceSQL
    static func rules(where condition: String?) -> String { MySQLFailureFixture.rules(where: condition) }
    static let slowRead = "SLEEP(0.001) = 0"

    let scratch: MySQLScratch

    init(_ label: String) throws {
        scratch = try MySQLScratch(label)
    }

    func markStaging() throws { try MySQLFailureFixture.markStaging(scratch) }

    func checkStagingUntouched(sourceLocation: Testing.SourceLocation) throws {
        try MySQLFailureFixture.expectStagingUntouched(scratch, sourceLocation: sourceLocation)
    }

    func killSourceSession() throws -> Bool {
        let admin = try MySQLConnection(url: scratch.server)
        return try eventually {
            let readers = try admin.query("""
                SELECT ID FROM information_schema.PROCESSLIST
                 WHERE DB = \(admin.literal(scratch.name("src"))) AND INFO LIKE 'SELECT%SLEEP%'
                """).compactMap { $0[0] }
            for id in readers { try admin.query("KILL CONNECTION \(id)") }
            return !readers.isEmpty
        }
    }

    let brokenStreamText = "reading big from the source"

    func holdStagingLock() throws -> (refusal: [String], release: () -> Void) {
        let holder = try MySQLTarget(url: try scratch.url("stage"))
        try holder.lock()
        return (["another snapmask run is restoring \(scratch.name("stage")) on 127.0.0.1: connection",
                 "connection \(holder.adminConnectionID)", "user root"], { holder.unlock() })
    }

    let sameHostSpelling = "localhost"

    func checkSourceAloneAndUntouched(sourceLocation: Testing.SourceLocation) throws {
        #expect(try scratch.rows("src", "SELECT COUNT(*) FROM big") == [["3000"]], sourceLocation: sourceLocation)
        #expect(try scratch.databases() == [scratch.name("src")], sourceLocation: sourceLocation)
    }

    /// The sample is random: originals put back into half the rows are found (a miss would take
    /// 100 draws all from the other half).
    let leakingOverride = """
        - table: big
          set: { email: { sql: "CONCAT('person', id, '@corp.example.org')" } }
          where: "id % 2 = 0"
        """
    let maskedColumn = "big.email"

    let failingOverrides = """
        - table: big
          set: { email: "first@staging.test" }
          where: "id = 1"
        - table: big
          set: { no_such_column: 1 }
        """

    func isFailingOverrideError(_ error: any Error) -> Bool {
        "\(error)".contains("overrides.yaml:4:3") && "\(error)".contains("no_such_column")
    }

    let table = "big"

    func shadowRowDeletion() throws -> @Sendable () throws -> Void {
        let shadow = try MySQLTarget(url: try scratch.url("stage")).shadowName
        let url = try TestServers.replacingDatabase(of: scratch.server, with: shadow)
        return { try MySQLConnection(url: url).query("DELETE FROM big ORDER BY id LIMIT 1") }
    }

    let countedTable = (name: "big", rows: 3000)
}

// MARK: - DocumentDB

final class DocumentDBFixture: EngineFixture {
    /// The collections the source holds; the killable one has more, read in small batches.
    static let sourceSize = 30
    static let killableSourceSize = 300

    let scratch: DocumentDBScratch
    /// A killable source: a wire server of the test's own, its database and the kill at the first batch.
    private var server: WireServer?
    private var source: DocumentDBScratch?
    private var killer: PhaseHook?

    init(_ label: String) throws {
        scratch = try DocumentDBScratch(label)
    }

    func createSource(killable: Bool) throws -> ConnectionString {
        guard killable else {
            try scratch.insert("src", "people", DocumentDBFailureFixture.people(Self.sourceSize))
            return try scratch.url("src")
        }
        // A second wire server of our own is the source, so it can be killed while it is read.
        let server = try WireServer.start()
        self.server = server
        let source = try DocumentDBScratch(scratch.prefix, server: server.url)
        self.source = source
        try source.insert("src", "people", DocumentDBFailureFixture.people(Self.killableSourceSize))
        return try source.url("src")
    }

    func markStaging() throws { try scratch.markStaging() }

    func checkStagingUntouched(sourceLocation: Testing.SourceLocation) throws {
        try scratch.expectStagingUntouched(sourceLocation: sourceLocation)
    }

    func job(overrides: String?) throws -> TestJob {
        try scratch.job(rules: DocumentDBFailureFixture.rules, overrides: overrides, source: try source?.url("src"))
    }

    func job(target: String) throws -> TestJob {
        try TestJob(database: "messages", engine: .documentdb, source: scratch.url("src").raw, target: target,
                    rules: DocumentDBFailureFixture.rules)
    }

    func drop() {
        scratch.drop()
        server?.stop()
    }

    func startRestoreOfTheKillableSource() throws -> OutcomeBox<RestoreReport> {
        let job = try self.job()
        // Small batches: the reader is surely mid-collection when the first batch has been written.
        let killer = PhaseHook(atFirstProgress: { [server] in server?.kill() })
        self.killer = killer
        return OutcomeBox.start {
            defer { job.remove() }
            return try job.restore(jobs: 1, observer: killer) { database in
                DocumentDBEngine(job: database, tuning: DocumentDBTuning(cursorBatchSize: 10, batchBytes: 1))
            }
        }
    }

    func killSourceSession() throws -> Bool {
        eventually { killer?.fired == true }
    }

    let brokenStreamText = "reading people after"

    func holdStagingLock() throws -> (refusal: [String], release: () -> Void) {
        let holder = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        try holder.lock()
        let stage = scratch.database("stage")
        return (["another snapmask run is restoring \(stage)",
                 "snapmask restore \(stage) from \(ProcessInfo.processInfo.hostName) pid", "since", "snapmask_locks.deleteOne"],
                { holder.unlock() })
    }

    let sameHostSpelling = "localhost"

    func checkSourceAloneAndUntouched(sourceLocation: Testing.SourceLocation) throws {
        #expect(try scratch.documents("src", "people").count == Self.sourceSize, sourceLocation: sourceLocation)
        #expect(try scratch.collections("src") == ["people"], sourceLocation: sourceLocation)
    }

    let leakingOverride = """
        - collection: people
          filter: { _id: 3 }
          set: { email: person3@corp.example.org }
        """
    let maskedColumn = "people.email"

    let failingOverrides = """
        - collection: people
          set: { note: fine }
        - collection: people
          filter: { note: { $noSuchOperator: 1 } }
          set: { note: never }
        """

    func isFailingOverrideError(_ error: any Error) -> Bool {
        guard let failure = error as? RestoreFailed else { return false }
        return failure.step == "applying overrides" && failure.underlying.contains("overrides.yaml:3:3")
    }

    func shadowRowDeletion() throws -> @Sendable () throws -> Void {
        let server = scratch.server, stage = scratch.database("stage")
        return {
            let reply = try DocumentDBClient(url: server, applicationName: "snapmask tests").command("""
                {"delete": "\(DocumentDBTarget.shadowPrefix)people", "deletes": [{"q": {"_id": 1}, "limit": 1}]}
                """, database: stage)
            #expect(reply.filter { $0 != " " }.contains(#""n":1,"#), "\(reply)")
        }
    }

    let countedTable = (name: "people", rows: sourceSize)
}
