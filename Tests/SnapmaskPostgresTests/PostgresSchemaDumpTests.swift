import Foundation
import Testing
@testable import SnapmaskPostgres

/// The schema archive is piped to pg_restore, never written to disk.
@Suite struct PostgresSchemaDumpTests {
    @Test func aProgramThatStopsReadingItsInputFailsClearly() throws {
        let (pgDump, _) = try PostgresSchemaDump.pgDump()
        let pgRestore = URL(fileURLWithPath: pgDump).deletingLastPathComponent().appendingPathComponent("pg_restore").path
        // pg_restore gives up after the first bytes; the rest of the write meets a closed pipe,
        // which must neither hang nor end this process (SIGPIPE).
        let started = Date()
        #expect {
            try PostgresSchemaDump.run(pgRestore, ["--list"], environment: ProcessInfo.processInfo.environment,
                                       input: Data(count: 16 << 20))
        } throws: { error in
            "\(error)".hasPrefix("pg_restore failed: ") && "\(error)".contains("archive")
        }
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func entriesOfServersAndMappingsAreLeftOutOfTheList() {
        let list = """
            ;
            ; Archive created at 2026-01-01
            2; 3079 18541 EXTENSION - postgres_fdw
            2057; 1417 18548 SERVER - prod link postgres
            3374; 0 0 COMMENT - SERVER prod link postgres
            3375; 0 0 ACL - FOREIGN SERVER prod link postgres
            3376; 0 0 USER MAPPING - USER MAPPING postgres SERVER prod link postgres
            218; 1259 18564 TABLE public SERVER - odd name postgres
            219; 0 0 COMMENT public TABLE "SERVER - x" postgres
            """
        #expect(PostgresForeignData.withoutServersAndMappings(list) == """
            ;
            ; Archive created at 2026-01-01
            2; 3079 18541 EXTENSION - postgres_fdw
            ;2057; 1417 18548 SERVER - prod link postgres
            ;3374; 0 0 COMMENT - SERVER prod link postgres
            ;3375; 0 0 ACL - FOREIGN SERVER prod link postgres
            ;3376; 0 0 USER MAPPING - USER MAPPING postgres SERVER prod link postgres
            218; 1259 18564 TABLE public SERVER - odd name postgres
            219; 0 0 COMMENT public TABLE "SERVER - x" postgres
            """)
    }
}
