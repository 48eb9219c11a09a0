import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// Reader sessions must be on the instance that exported the snapshot. What a cluster's reader
/// endpoint does (send each new connection to some replica) is simulated: libpq 15 has no load
/// balancing, so the reader sessions' connector of these tests sends them to a second, real
/// PostgreSQL server started for the test (a "replica" with a database of the same name but
/// not the snapshot). Everything else is real: the instance each session reports (address,
/// port, start time), the reconnects, and the reads on the snapshot's own session.
@Suite(.serialized) struct PostgresReaderInstanceTests {
    static let sourceSQL = """
        CREATE TABLE a (id int PRIMARY KEY, email text);
        CREATE TABLE b (id int PRIMARY KEY, note text);
        CREATE TABLE c (id int PRIMARY KEY);
        INSERT INTO a SELECT g, 'user' || g || '@corp.example.org' FROM generate_series(1, 300) g;
        INSERT INTO b SELECT g, 'note ' || g FROM generate_series(1, 200) g;
        INSERT INTO c SELECT g FROM generate_series(1, 100) g;
        """

    static let rules = """
        tables:
          public.a: { columns: { id: keep, email: { transform: email, unique: true } } }
          public.b: { columns: { id: keep, note: keep } }
          public.c: { columns: { id: keep } }
        """

    /// Where the simulated endpoint sends each new reader connection, in order; the last
    /// answer repeats. Counts the connections made.
    final class Endpoint: @unchecked Sendable {
        private let lock = NSLock()
        private let targets: [ConnectionString]
        private(set) var connections = 0

        init(_ targets: [ConnectionString]) { self.targets = targets }

        func next() -> ConnectionString {
            lock.lock()
            defer { lock.unlock() }
            connections += 1
            return targets[min(connections, targets.count) - 1]
        }

        var placement: PostgresReaderPlacement {
            var placement = PostgresReaderPlacement()
            placement.connect = { _, name in try PostgresConnection(url: self.next(), applicationName: name, readOnly: true) }
            placement.pause = { _ in 0 }
            return placement
        }
    }

    /// The source (on the test server) and a "replica": another server holding an empty database
    /// of the same name.
    static func setUp(_ label: String) throws -> (scratch: PostgresScratch, source: ConnectionString, replica: ThrowawayPostgres,
                                                  elsewhere: ConnectionString) {
        let scratch = try PostgresScratch(label)
        let source = try scratch.url("src", create: true, sql: sourceSQL)
        let replica = try ThrowawayPostgres()
        let name = try #require(source.database)
        try PostgresConnection(url: replica.url).execute("CREATE DATABASE \"\(name)\"")
        return (scratch, source, replica, try TestServers.replacingDatabase(of: replica.url, with: name))
    }

    static func readAll(_ source: PostgresSource, _ tables: [String]) throws -> [String: Int] {
        let plan = try RestorePlan.make(rules: try compiledRules(), schema: source.schema)
        var counts: [String: Int] = [:]
        for name in tables {
            let reader = try source.makeReader(for: try #require(plan.table(named: name)))
            var rows = 0
            while let batch = try reader.next() { rows += batch.rowCount }
            reader.close()
            counts[name] = rows
        }
        return counts
    }

    static func compiledRules(_ rules: String = rules) throws -> CompiledRules {
        let job = try TestJob(engine: .postgres, source: "postgres://u@127.0.0.1:1/x", target: "postgres://u@127.0.0.1:2/y",
                              rules: rules)
        defer { job.remove() }
        return try job.database("app").rules
    }

    static let expected = ["public.a": 300, "public.b": 200, "public.c": 100]

    @Test func theTwoServersReportDifferentInstances() throws {
        let (scratch, source, replica, elsewhere) = try Self.setUp("pginstance")
        defer { scratch.drop(); replica.stop() }
        let here = try PostgresInstance.of(try PostgresConnection(url: source))
        let there = try PostgresInstance.of(try PostgresConnection(url: elsewhere))
        #expect(here.hasPrefix("server 127.0.0.1 port ") && here.contains(" started "), "\(here)")
        #expect(here != there)
        #expect(here == (try PostgresInstance.of(try PostgresConnection(url: source))), "the same server, asked again")
    }

    /// Where aurora_db_instance_identifier() exists (Aurora PostgreSQL), the instance is its answer.
    /// Played here by a function of that name in the scratch database.
    @Test func auroraInstancesAreKnownByTheirIdentifier() throws {
        let scratch = try PostgresScratch("pgauroraid")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: """
            CREATE FUNCTION aurora_db_instance_identifier() RETURNS text LANGUAGE sql AS $$ SELECT 'app-db-instance-2' $$;
            """)
        #expect(try PostgresInstance.of(try PostgresConnection(url: source)) == "Aurora instance app-db-instance-2")
    }

    @Test func aReaderThatLandsElsewhereReconnectsUntilItReachesTheSnapshot() throws {
        let (scratch, source, replica, elsewhere) = try Self.setUp("pglanded")
        defer { scratch.drop(); replica.stop() }
        // Each session's first connection goes to the replica, its second to the snapshot's server.
        let endpoint = Endpoint([elsewhere, source, elsewhere, source, elsewhere, source])
        let snapshot = try PostgresSource(url: source, readers: 3, placement: endpoint.placement)
        defer { snapshot.close() }
        #expect(snapshot.notices.isEmpty, "\(snapshot.notices)")
        #expect(endpoint.connections == 6)
        // Three tables at once, each on a session of its own inside the snapshot.
        let plan = try RestorePlan.make(rules: try Self.compiledRules(), schema: snapshot.schema)
        let readers = try ["public.a", "public.b", "public.c"].map { try snapshot.makeReader(for: try #require(plan.table(named: $0))) }
        #expect(try scratch.rows("src", """
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'snapmask read public.%'
            """) == [["3"]])
        var counts: [Int] = []
        for reader in readers {
            var rows = 0
            while let batch = try reader.next() { rows += batch.rowCount }
            reader.close()
            counts.append(rows)
        }
        #expect(counts == [300, 200, 100])
        #expect(endpoint.connections == 6, "no more connections: the sessions are reused")
    }

    @Test func readersThatNeverReachTheSnapshotShareTheCoordinatorOneTableAtATime() throws {
        let (scratch, source, replica, elsewhere) = try Self.setUp("pgfallback")
        defer { scratch.drop(); replica.stop() }
        let endpoint = Endpoint([elsewhere])
        let snapshot = try PostgresSource(url: source, readers: 3, placement: endpoint.placement)
        defer { snapshot.close() }
        #expect(endpoint.connections == 4, "four tries for the first session, then no more")
        let notice = try #require(snapshot.notices.first)
        #expect(notice.contains("reached another instance (server 127.0.0.1 port \(replica.port) started "), "\(notice)")
        #expect(notice.contains("than the snapshot's (server 127.0.0.1 port "))
        #expect(notice.contains("on the snapshot's own session, table after table, instead of 3 tables at once"))
        #expect(notice.contains("every table is still read inside the same snapshot"))

        // A second table waits for the first to be done with the coordinator.
        let plan = try RestorePlan.make(rules: try Self.compiledRules(), schema: snapshot.schema)
        let first = try snapshot.makeReader(for: try #require(plan.table(named: "public.a")))
        let second = OutcomeBox<Int>.start {
            let reader = try snapshot.makeReader(for: plan.table(named: "public.b")!)
            var rows = 0
            while let batch = try reader.next() { rows += batch.rowCount }
            reader.close()
            return rows
        }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!second.isFinished)
        var rows = 0
        while let batch = try first.next() { rows += batch.rowCount }
        first.close()
        #expect(rows == 300)
        #expect(try second.wait().get() == 200)

        // A table that fails on the coordinator (its where: divides by zero) leaves the snapshot usable.
        let failingRules = Self.rules.replacingOccurrences(of: "public.c: { columns", with: "public.c: { where: \"id / (id - id) > 0\", columns")
        let failing = try #require(RestorePlan.make(rules: try Self.compiledRules(failingRules), schema: snapshot.schema)
            .table(named: "public.c"))
        #expect { try snapshot.makeReader(for: failing).next() } throws: { "\($0)".contains("division by zero") }
        #expect(try Self.readAll(snapshot, ["public.c"]) == ["public.c": 100])
        #expect(try snapshot.sampleRows(try #require(plan.table(named: "public.a")), keyColumns: ["id"], column: "email",
                                        limit: 5).count == 5)
    }

    @Test func someSessionsReachingTheSnapshotReadWithFewer() throws {
        let (scratch, source, replica, elsewhere) = try Self.setUp("pgfewer")
        defer { scratch.drop(); replica.stop() }
        let endpoint = Endpoint([source, elsewhere])
        let snapshot = try PostgresSource(url: source, readers: 3, placement: endpoint.placement)
        defer { snapshot.close() }
        #expect(snapshot.notices.first?.contains("on the 1 sessions that reached it, instead of 3") == true, "\(snapshot.notices)")
        #expect(try Self.readAll(snapshot, ["public.a", "public.b", "public.c"]) == Self.expected)
    }

    /// The whole restore: the fallback is in the log and in the report, and staging gets every row.
    @Test func aRestoreThatFallsBackSaysSoInTheLogAndTheReport() throws {
        let (scratch, _, replica, elsewhere) = try Self.setUp("pgfallbackrun")
        defer { scratch.drop(); replica.stop() }
        _ = try scratch.url("stage")
        let job = try scratch.job(rules: Self.rules)
        defer { job.remove() }
        let endpoint = Endpoint([elsewhere])
        let observer = RecordingObserver()
        let report = try job.restore("app", jobs: 3, observer: observer) { database in
            ElsewhereEngine(base: PostgresEngine(job: database), placement: endpoint.placement)
        }
        #expect(report.outcome == "swapped")
        #expect(report.notices.count == 1 && report.notices[0].contains("on the snapshot's own session, table after table"),
                "\(report.notices)")
        #expect(observer.phases.contains { $0.contains("on the snapshot's own session, table after table") })
        #expect(try scratch.rows("stage", "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)")
                    == [["300", "200", "100"]])
    }
}

/// PostgreSQL's engine with reader sessions placed by the test.
struct ElsewhereEngine: DatabaseEngine {
    let base: PostgresEngine
    let placement: PostgresReaderPlacement

    func inspectSource() throws -> SchemaShape { try base.inspectSource() }
    func openSource(readers: Int) throws -> any SourceSession {
        try PostgresSource(url: base.job.source, readers: readers, placement: placement)
    }
    func openTarget() throws -> any TargetSession { try base.openTarget() }
    func makeMasker(for plan: TablePlan) -> any BatchMasker { base.makeMasker(for: plan) }
    func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]] { try base.previewRows(plan, limit: limit) }
    func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String], columns: [String]) throws -> [String: [SampledRow]] {
        try base.keyedValues(in: batch, plan: plan, keyColumns: keyColumns, columns: columns)
    }
    func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String] {
        try base.sampleValues(plan, column: column, limit: limit)
    }
}

/// A PostgreSQL server of the test's own, on a free port under a temporary folder (initdb and
/// pg_ctl, as scripts/services runs them; as the postgres user when the tests run as root).
final class ThrowawayPostgres: @unchecked Sendable {
    let port: Int
    let directory: String
    let url: ConnectionString
    private let bin: String

    init() throws {
        bin = Self.binaries()
        directory = "/tmp/snapmask-pg-\(UInt32.random(in: 0...UInt32.max))"
        port = try Self.freePort()
        url = try ConnectionString("postgres://postgres@127.0.0.1:\(port)/postgres")
        try run("\(bin)/initdb", ["-D", directory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        try run("\(bin)/pg_ctl", ["-D", directory, "-l", "\(directory)/server.log", "-w", "-t", "60", "-o",
                                  "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory) -c fsync=off", "start"])
    }

    func stop() {
        _ = try? run("\(bin)/pg_ctl", ["-D", directory, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Spawned and waited for directly, output to a file: the server pg_ctl leaves running
    /// inherits whatever pg_ctl had, and Foundation's Process was seen waiting on it.
    private func run(_ program: String, _ arguments: [String]) throws {
        let asPostgres = getuid() == 0
        let output = directory + ".out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        // From /, which the postgres user can enter whatever the test's working directory.
        let argv = (asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/bin/sh", "-c", "cd / && exec \"$0\" \"$@\"", program]
                               : [program]) + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let copies = argv.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, copies + [nil], environ)
        guard spawned == 0 else { throw PostgresError("could not start \(argv[0]) (errno \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0 && exitCode == 0 else {
            let said = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
            throw PostgresError("\(program) failed (status \(status)): \(said)\n\(log)")
        }
    }

    static func binaries() -> String {
        if let bin = ProcessInfo.processInfo.environment["SNAPMASK_PG_BIN"], !bin.isEmpty { return bin }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted()
        return versions.contains(15) ? "/usr/lib/postgresql/15/bin" : "/usr/lib/postgresql/\(versions.last ?? 15)/bin"
    }

    /// A port nothing listens on: the kernel's pick for a socket bound to port 0.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw PostgresError("no socket for finding a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw PostgresError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
