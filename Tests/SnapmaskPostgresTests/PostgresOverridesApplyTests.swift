import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// `overrides apply` on live staging behaves like a restore: it waits for no one and writes
/// nothing while another run holds the target's lock, and it refuses a target that is the
/// source under another name.
@Suite struct PostgresOverridesApplyTests {
    @Test func overridesApplyTakesTheLockAndChecksTheServer() throws {
        let scratch = try PostgresScratch("pgoverlock")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: "CREATE TABLE flags (name text PRIMARY KEY, enabled boolean);")
        _ = try scratch.url("stage", create: true, sql: "CREATE TABLE flags (name text PRIMARY KEY, enabled boolean); "
                                + "INSERT INTO flags VALUES ('a', false);")
        let overrides = "- table: flags\n  set: { enabled: true }\n"
        let job = try PostgresRestoreTests.job(scratch, rules: "tables:\n  flags: { columns: { name: keep, enabled: keep } }\n",
                                               overrides: overrides)
        defer { job.remove() }
        let (database, _) = try job.database("app")
        let holder = try PostgresTarget(url: database.target)
        try holder.lock()
        #expect { try PostgresEngine(job: database).applyOverridesToStaging(database.overrides) } throws: { error in
            error is TargetLocked && "\(error)".contains("snapmask restore")
        }
        #expect(try scratch.rows("stage", "SELECT enabled::text FROM flags") == [["false"]], "nothing written while locked")
        holder.unlock()
        #expect(try PostgresEngine(job: database).applyOverridesToStaging(database.overrides).map(\.rowsAffected) == [1])
        #expect(try scratch.rows("stage", "SELECT enabled::text FROM flags") == [["true"]])

        let aliased = try TestJob(databases: """
            app:
              engine: postgres
              source: \(source.raw)
              target: \(source.raw.replacingOccurrences(of: "127.0.0.1", with: "127.1"))
              rules: rules.yaml
              overrides: overrides.yaml
            """, files: ["rules.yaml": "tables:\n  flags: { columns: { name: keep, enabled: keep } }\n",
                         "overrides.yaml": overrides])
        defer { aliased.remove() }
        let (alias, _) = try aliased.database("app")
        #expect { try PostgresEngine(job: alias).applyOverridesToStaging(alias.overrides) } throws: { error in
            error is TargetIsSource && "\(error)".contains("system identifier")
        }
    }
}
