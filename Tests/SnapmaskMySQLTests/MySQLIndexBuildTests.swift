import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A table's secondary indexes are built as soon as its rows are loaded, while other tables
/// still load; `finishSchema` builds only the rest. A failed build stops the run; a build still
/// running when the run fails elsewhere is stopped before the shadow copy is dropped.
@Suite struct MySQLIndexBuildTests {
    struct BuildFailed: Error {}

    @Test func aFailedBuildStopsTheNextTableAndTheSchemaStep() throws {
        let builds = MySQLIndexBuilds()
        try builds.start("a", slots: 2) {}
        try builds.start("b", slots: 2) { throw BuildFailed() }
        builds.settle()
        #expect(!builds.isRunning)
        #expect(throws: BuildFailed.self) { try builds.start("c", slots: 2) {} }
        #expect(throws: BuildFailed.self) { try builds.finish() }
    }

    @Test func noMoreBuildsRunAtOnceThanTheSlots() throws {
        let builds = MySQLIndexBuilds()
        let counter = NSLock()
        nonisolated(unsafe) var running = 0, most = 0
        for index in 0..<6 {
            try builds.start("t\(index)", slots: 2) {
                counter.withLock { running += 1; most = max(most, running) }
                Thread.sleep(forTimeInterval: 0.05)
                counter.withLock { running -= 1 }
            }
        }
        #expect(try builds.finish() == Set((0..<6).map { "t\($0)" }))
        #expect(most == 2)
    }

    static let sourceSQL = """
        CREATE TABLE people (id int PRIMARY KEY, email varchar(100) NOT NULL, city varchar(40), KEY by_city (city));
        INSERT INTO people VALUES (1, 'ann@corp.example.org', 'Oslo'), (2, 'bob@corp.example.org', 'Lima');
        """

    /// A locked target with its shadow copy prepared (tables with their primary keys only).
    struct Setup {
        let target: MySQLTarget
        let definition: SchemaDefinition
        let plan: RestorePlan
        let job: TestJob

        func end() {
            target.discardShadow()
            target.unlock()
            target.close()
            job.remove()
        }
    }

    static func target(_ scratch: MySQLScratch) throws -> Setup {
        let url = try scratch.url("src", create: true, sql: sourceSQL)
        _ = try scratch.url("stage", create: true)
        let job = try scratch.job(rules: "tables:\n  people: { columns: { id: keep, email: email, city: keep } }", source: url)
        let (database, rules) = try job.database("app")
        let source = try MySQLSource(url: url, readers: 1)
        defer { source.close() }
        let plan = try RestorePlan.make(rules: rules, source: source)
        var definition = try source.schemaDefinition()
        definition.record(plan)
        let target = try MySQLTarget(url: database.target)
        try target.lock()
        try target.prepareShadow(definition: definition, plan: plan)
        return Setup(target: target, definition: definition, plan: plan, job: job)
    }

    static func indexes(_ scratch: MySQLScratch) throws -> [String] {
        try scratch.rows("stage_snapmask_shadow", "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE "
                             + "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'people'").compactMap { $0[0] }.sorted()
    }

    @Test func aLoadedTablesIndexesAreBuiltBeforeTheSchemaStepWhichDoesNotBuildThemAgain() throws {
        let scratch = try MySQLScratch("myidxearly")
        defer { scratch.drop() }
        let setup = try Self.target(scratch)
        defer { setup.end() }
        #expect(try Self.indexes(scratch) == ["PRIMARY"])
        try setup.target.tableLoaded("people")
        #expect(try setup.target.indexBuilds.finish() == ["people"])
        #expect(try Self.indexes(scratch) == ["PRIMARY", "by_city"], "built when the table was loaded")
        // Adding by_city a second time would fail ("Duplicate key name").
        try setup.target.finishSchema(definition: setup.definition, plan: setup.plan)
        #expect(try Self.indexes(scratch) == ["PRIMARY", "by_city"])
    }

    /// The run failed while a build waits (here for a session that read the shadow table): the
    /// build is stopped before the shadow copy is dropped, instead of the drop waiting for it.
    @Test(.timeLimit(.minutes(1))) func aBuildStillRunningWhenTheRunFailsIsStopped() throws {
        let scratch = try MySQLScratch("myidxstop")
        defer { scratch.drop() }
        let setup = try Self.target(scratch)
        defer { setup.end() }
        let shadow = scratch.name("stage_snapmask_shadow")
        let reader = try MySQLConnection(url: scratch.server, database: .none)
        try reader.query("START TRANSACTION")
        try reader.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(shadow, "people"))")
        try setup.target.tableLoaded("people")
        let monitor = try MySQLConnection(url: scratch.server, database: .none)
        func alterWaiting() throws -> Bool {
            try monitor.scalar("""
                SELECT COUNT(*) FROM information_schema.PROCESSLIST
                 WHERE INFO LIKE 'ALTER TABLE `people`%' AND DB = \(monitor.literal(shadow))
                """) != "0"
        }
        var waiting = false
        for _ in 0..<100 where !waiting {
            Thread.sleep(forTimeInterval: 0.05)
            waiting = try alterWaiting()
        }
        #expect(waiting, "the build waits for the reading session")
        #expect(setup.target.indexBuilds.isRunning)
        let discarded = DispatchSemaphore(value: 0)
        let target = setup.target
        Thread { target.discardShadow(); discarded.signal() }.start()
        var stopped = false
        for _ in 0..<100 where !stopped {
            Thread.sleep(forTimeInterval: 0.05)
            stopped = try !alterWaiting()
        }
        #expect(stopped, "the build was stopped while the reading session still held the table")
        try reader.query("COMMIT")
        #expect(discarded.wait(timeout: .now() + 20) == .success)
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")], "the shadow copy is gone")
        #expect(throws: MySQLError.self) { try setup.target.indexBuilds.finish() }
    }
}
