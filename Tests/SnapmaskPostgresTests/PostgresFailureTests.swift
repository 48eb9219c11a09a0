import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// Whatever goes wrong before the swap, staging stays exactly as it was and no shadow is left.
@Suite struct PostgresFailureTests {
    static let stagingSQL = "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('previous staging');"

    static let sourceSQL = """
        CREATE TABLE big (id int PRIMARY KEY, email text);
        INSERT INTO big SELECT g, 'person' || g || '@corp.example.org' FROM generate_series(1, 3000) g;
        """

    static func rules(where condition: String? = nil) -> String {
        """
        tables:
          public.big:
        \(condition.map { "    where: \"\($0)\"\n" } ?? "")    columns: { id: keep, email: { transform: email, unique: true } }
        """
    }

    func expectStagingUntouched(_ scratch: PostgresScratch) throws {
        #expect(try scratch.rows("stage", "SELECT v FROM marker") == [["previous staging"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM pg_tables WHERE tablename = 'big'") == [["0"]])
        #expect(try scratch.databases() == ["\(scratch.prefix)_src", "\(scratch.prefix)_stage"], "no shadow copy left")
    }

    func makeJob(_ scratch: PostgresScratch, rules: String, overrides: String? = nil) throws -> TestJob {
        try PostgresRestoreTests.job(scratch, rules: rules, overrides: overrides)
    }

    @Test func sourceKilledMidStreamLeavesStagingUntouched() throws {
        let scratch = try PostgresScratch("pgkill")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        // pg_sleep slows the stream to about 3 s, so the reader is surely mid-table when killed.
        let job = try makeJob(scratch, rules: Self.rules(where: "pg_sleep(0.001) IS NOT NULL"))
        defer { job.remove() }
        let outcome = ResultBox()
        let thread = Thread { outcome.set(Result { try PostgresRestoreTests.restore(job) }) }
        thread.start()
        let admin = try PostgresConnection(url: scratch.server)
        var killed = false
        for _ in 0..<200 where !killed {
            Thread.sleep(forTimeInterval: 0.05)
            let rows = try admin.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = 'snapmask read public.big' AND state = 'active'
                """, ["\(scratch.prefix)_src"]).rows
            killed = !rows.isEmpty
        }
        #expect(killed)
        let result = outcome.wait()
        guard case let .failure(error) = result else {
            Issue.record("the restore succeeded although its source was killed")
            return
        }
        let failure = try #require(error as? RestoreFailed)
        #expect(failure.step == "copying tables")
        #expect("\(failure)".contains("public.big"))
        try expectStagingUntouched(scratch)
    }

    @Test func unruledNewColumnFailsTheCheckAndWritesNothing() throws {
        let scratch = try PostgresScratch("pgunruled")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + "ALTER TABLE big ADD COLUMN ssn text;")
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        let job = try makeJob(scratch, rules: Self.rules())
        defer { job.remove() }
        do {
            _ = try PostgresRestoreTests.restore(job)
            Issue.record("a column without a rule was restored")
        } catch let failed as CheckFailed {
            #expect(failed.problems.map(\.description) == [
                "public.big.ssn: column has no rule (text); add `ssn: keep` if it holds no personal data, or a transformer"])
        }
        try expectStagingUntouched(scratch)
    }

    @Test func failingWhereClauseIsReportedAndWritesNothing() throws {
        let scratch = try PostgresScratch("pgwhere")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        let job = try makeJob(scratch, rules: Self.rules(where: "no_such_column > 3"))
        defer { job.remove() }
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            "\(error)".contains("no_such_column") && "\(error)".contains("where: condition")
        }
        try expectStagingUntouched(scratch)
    }

    @Test func overrideThatReintroducesAnOriginalIsCaughtByTheLeakCheck() throws {
        let scratch = try PostgresScratch("pgleak")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        // Every row gets its original back, so whichever rows the (random) leak sample picks leak.
        let job = try makeJob(scratch, rules: Self.rules(), overrides: """
            - table: public.big
              set: { email: { sql: "'person' || id || '@corp.example.org'" } }
            """)
        defer { job.remove() }
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "checking for leaked values" && failure.underlying.contains("public.big.email")
        }
        try expectStagingUntouched(scratch)
    }

    @Test func failingOverrideRollsBackAndLeavesStagingUntouched() throws {
        let scratch = try PostgresScratch("pgoverride")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        let job = try makeJob(scratch, rules: Self.rules(), overrides: """
            - table: public.big
              set: { no_such_column: 1 }
            """)
        defer { job.remove() }
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            "\(error)".contains("overrides.yaml:1:3") && "\(error)".contains("no_such_column")
        }
        try expectStagingUntouched(scratch)
    }

    @Test func secondConcurrentRestoreIsRefusedNamingTheHolder() throws {
        let scratch = try PostgresScratch("pglock")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        let job = try makeJob(scratch, rules: Self.rules())
        defer { job.remove() }
        let (database, _) = try job.database("app")
        let holder = try PostgresTarget(url: database.target)
        try holder.lock()
        defer { holder.unlock() }
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("another snapmask run is restoring \(scratch.prefix)_stage") && text.contains("snapmask restore")
                && text.contains("since")
        }
        try expectStagingUntouched(scratch)
    }

    @Test func targetThatIsTheSourceIsRefused() throws {
        let scratch = try PostgresScratch("pgsame")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        func job(target: String) throws -> TestJob {
            try TestJob(databases: """
                app:
                  engine: postgres
                  source: \(source.raw)
                  target: \(target)
                  rules: rules.yaml
                """, files: ["rules.yaml": Self.rules()])
        }
        // Another spelling of the same address is refused when the job file is read...
        let spelled = try job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: "[::1]"))
        defer { spelled.remove() }
        #expect(throws: ConfigErrors.self) { try spelled.load() }
        // ...and an address the file cannot tell apart is refused by asking the servers.
        let aliased = try job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: "127.1"))
        defer { aliased.remove() }
        #expect {
            try PostgresRestoreTests.restore(aliased)
        } throws: { error in
            "\(error)".contains("is the source database under another name")
        }
        #expect(try scratch.rows("src", "SELECT count(*) FROM big") == [["3000"]])
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
    }

    @Test func unreachableSourceIsAClearErrorWithoutThePassword() throws {
        let job = try TestJob(databases: """
            app:
              engine: postgres
              source: postgres://reader:Pr0dSecret@127.0.0.1:1/app
              target: postgres://writer:St4geSecret@127.0.0.1:2/app
              rules: rules.yaml
            """, files: ["rules.yaml": Self.rules()])
        defer { job.remove() }
        do {
            _ = try PostgresRestoreTests.restore(job)
            Issue.record("restore from an unreachable source succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("opening the source") && text.contains("127.0.0.1"))
            #expect(!text.contains("Pr0dSecret") && !text.contains("St4geSecret"))
        }
    }
}
