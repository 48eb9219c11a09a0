import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport
import Testing

/// A run stopped at any moment — a signal, a kill, a session in the way of the swap — leaves
/// PostgreSQL staging old or new and reachable, says which, and the next run succeeds at once.
@Suite(.serialized) struct PostgresInterruptionTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, note text);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', repeat('n', 200) FROM generate_series(1, 60000) g;
        """

    static let rules = """
        tables:
          users:
            columns: { id: keep, email: { transform: email, unique: true }, note: lorem }
        """

    /// A source, a staging database holding a marker of the previous run, and the job.
    static func setUp(_ label: String) throws -> (PostgresScratch, TestJob) {
        let scratch = try PostgresScratch(label)
        _ = try scratch.url("src", create: true, sql: sourceSQL)
        _ = try scratch.url("stage", create: true, sql: "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('previous');")
        let job = try scratch.job(rules: rules)
        return (scratch, job)
    }

    static func expectPreviousStaging(_ scratch: PostgresScratch, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try scratch.rows("stage", "SELECT v FROM marker") == [["previous"]], sourceLocation: sourceLocation)
    }

    static func expectNextRunSucceeds(_ scratch: PostgresScratch, _ job: TestJob,
                                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let next = try CommandRunner.run(["restore", "--config", job.path])
        #expect(next.status == 0, "\(next.stderr)", sourceLocation: sourceLocation)
        #expect(try scratch.rows("stage", "SELECT count(*) FROM users") == [["60000"]], sourceLocation: sourceLocation)
        #expect(try scratch.databases().filter { $0.contains("_snapmask_") }.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func sigtermDuringTheCopyCleansUpAndSaysStagingIsUnchanged() throws {
        let (scratch, job) = try Self.setUp("intcopy")
        defer { scratch.drop(); job.remove() }
        let run = try RunningCommand(["restore", "--config", job.path])
        #expect(run.waitForStderr(containing: "copying 1 tables"))
        run.signal(SIGTERM)
        let result = run.wait()
        #expect(result.status == 143, "\(result.stderr)")
        #expect(result.stderr.contains("interrupted by SIGTERM"), "\(result.stderr)")
        #expect(result.stderr.contains("staging is unchanged") && result.stderr.contains("the shadow copy was removed"),
                "\(result.stderr)")
        try Self.expectPreviousStaging(scratch)
        #expect(try scratch.databases().filter { $0.contains("_snapmask_") }.isEmpty, "no shadow left")
        try Self.expectNextRunSucceeds(scratch, job)
    }

    /// A session holding a lock on the staging database (an open `COMMENT ON DATABASE`) keeps
    /// the swap's rename waiting; the run is killed right there, with an application session on
    /// staging. Staging stays reachable with its previous data.
    @Test func killedInsideTheSwapLeavesStagingReachable() throws {
        let (scratch, job) = try Self.setUp("intswap")
        defer { scratch.drop(); job.remove() }
        let application = try scratch.connect("stage")
        _ = try application.execute("SELECT count(*) FROM marker")
        let holder = try PostgresConnection(url: try TestServers.postgres())
        try holder.execute("BEGIN")
        try holder.execute("COMMENT ON DATABASE \"\(scratch.prefix)_stage\" IS 'in use'")
        let run = try RunningCommand(["restore", "--config", job.path])
        #expect(run.waitForStderr(containing: "swapping the shadow copy in"))
        Thread.sleep(forTimeInterval: 1)
        run.signal(SIGKILL)
        _ = run.wait()
        try holder.execute("ROLLBACK")
        try Self.expectPreviousStaging(scratch)
        try Self.expectNextRunSucceeds(scratch, job)
    }

    @Test func theSwapGivesUpNamingTheBlockingSessionWithStagingUnchanged() throws {
        let (scratch, job) = try Self.setUp("intblock")
        defer { scratch.drop(); job.remove() }
        let holder = try PostgresConnection(url: try TestServers.postgres(), applicationName: "migration tool")
        try holder.execute("BEGIN")
        try holder.execute("COMMENT ON DATABASE \"\(scratch.prefix)_stage\" IS 'in use'")
        let started = Date()
        let result = try CommandRunner.run(["restore", "--config", job.path])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 60, "the swap is bounded")
        #expect(result.stderr.contains("the swap gave up") && result.stderr.contains("pid \(holder.backendPID)")
                    && result.stderr.contains("application migration tool"), "\(result.stderr)")
        #expect(result.stderr.contains("staging is unchanged"), "\(result.stderr)")
        try Self.expectPreviousStaging(scratch)
        try holder.execute("ROLLBACK")
        try Self.expectNextRunSucceeds(scratch, job)
    }

    /// A SIGTERM that arrives once the swap has begun lets it finish: staging is new, exit 0.
    @Test func sigtermDuringTheSwapLetsItFinish() throws {
        let (scratch, job) = try Self.setUp("intlate")
        defer { scratch.drop(); job.remove() }
        let holder = try PostgresConnection(url: try TestServers.postgres())
        try holder.execute("BEGIN")
        try holder.execute("COMMENT ON DATABASE \"\(scratch.prefix)_stage\" IS 'in use'")
        let run = try RunningCommand(["restore", "--config", job.path])
        #expect(run.waitForStderr(containing: "swapping the shadow copy in"))
        run.signal(SIGTERM)
        Thread.sleep(forTimeInterval: 1)
        try holder.execute("ROLLBACK")
        let result = run.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.rows("stage", "SELECT count(*) FROM users") == [["60000"]])
    }
}
