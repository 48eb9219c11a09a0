import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// `snapmask run`, the weekly job, over all three engines: report, metrics (file and
/// Pushgateway, read back with prometheus_client's parser), logs without secrets, one run at a time.
@Suite(.serialized) struct RunCommandTests {
    struct Setup {
        let postgres: PostgresScratch
        let mysql: MySQLScratch
        let mongo: DocumentDBScratch
        let job: TestJob

        func cleanup() {
            postgres.drop()
            mysql.drop()
            mongo.drop()
            job.remove()
        }
    }

    /// One small database per engine; `mysqlSource` replaces the MySQL source URL (to take it down).
    static func setup(_ label: String, mysqlSource: String? = nil, postgresWhere: String? = nil) throws -> Setup {
        let postgres = try PostgresScratch("\(label)pg")
        let pgSource = try postgres.url("src", create: true, sql: """
            CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, name text);
            INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', 'Name ' || g FROM generate_series(1, 300) g;
            """)
        let mysql = try MySQLScratch("\(label)my")
        let mySource = try mysql.url("src", create: true, sql: """
            CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(200), phone VARCHAR(32));
            INSERT INTO customers SELECT seq, CONCAT('customer', seq, '@corp.example.org'), CONCAT('+1 415 555 ', LPAD(seq, 4, '0'))
              FROM seq_1_to_200;
            """)
        let mongo = try DocumentDBScratch("\(label)mg")
        try mongo.insert("src", "messages", (1...50).map { #"{"_id": \#($0), "sender": {"email": "writer\#($0)@corp.example.org"}, "body": "hello \#($0)"}"# })
        // A password in the PostgreSQL URL (trust authentication ignores it) must never be logged.
        let pgSourceWithPassword = pgSource.raw.replacingOccurrences(of: "postgres@", with: "postgres:Pr0dPassw0rd@")
        let job = try TestJob(databases: """
            app:
              engine: postgres
              source: \(pgSourceWithPassword)
              target: \(try postgres.url("stage").raw)
              rules: pg.yaml
            legacy:
              engine: mysql
              source: \(mysqlSource ?? mySource.raw)
              target: \(try mysql.url("stage").raw)
              rules: my.yaml
            messages:
              engine: documentdb
              source: "\(try mongo.url("src").raw)"
              target: "\(try mongo.url("stage").raw)"
              rules: mg.yaml
            """, files: [
                "pg.yaml": """
                    tables:
                      users:
                    \(postgresWhere.map { "    where: \"\($0)\"\n" } ?? "")    columns: { id: keep, email: { transform: email, unique: true }, name: full_name }
                    """,
                "my.yaml": "tables:\n  customers:\n    columns: { id: keep, email: email, phone: phone }\n",
                "mg.yaml": "collections:\n  messages:\n    fields: { _id: keep, sender.email: email, body: lorem }\n",
            ])
        return Setup(postgres: postgres, mysql: mysql, mongo: mongo, job: job)
    }

    static func parseMetrics(_ source: String) throws -> (samples: [String: Double], types: [String: String]) {
        let python = try shell(["scripts/lib/python-tools.sh"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let output = try shell([python, "scripts/lib/parse_metrics.py", source])
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return ((object?["samples"] as? [String: Double]) ?? [:], (object?["types"] as? [String: String]) ?? [:])
    }

    static func shell(_ arguments: [String]) throws -> String {
        let result = try CommandRunner.run(program: URL(fileURLWithPath: "/usr/bin/env"), arguments, directory: Repository.root)
        guard result.status == 0 else {
            throw CommandFailedError(command: arguments.joined(separator: " "), status: result.status)
        }
        return result.stdout
    }

    struct CommandFailedError: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var description: String { "\(command) exited with \(status)" }
    }

    @Test func fullRunOverThreeEnginesReportsAndPublishesMetrics() throws {
        let setup = try Self.setup("runok")
        defer { setup.cleanup() }
        let report = setup.job.directory.appendingPathComponent("report.json").path
        let metrics = setup.job.directory.appendingPathComponent("snapmask.prom").path
        let gateway = try TestServers.pushgateway()
        let result = try CommandRunner.run(["run", "--config", setup.job.path, "--from-source", "--report", report,
                                            "--metrics-file", metrics, "--pushgateway", gateway])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("3 of 3 databases restored"))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let databases = try #require(json?["databases"] as? [[String: Any]])
        #expect(databases.map { $0["name"] as? String } == ["app", "legacy", "messages"])
        #expect(databases.allSatisfy { $0["succeeded"] as? Bool == true })
        let rows = databases.map { (($0["restore"] as? [String: Any])?["tables"] as? [[String: Any]])?
            .reduce(0) { $0 + (($1["rowsWritten"] as? Int) ?? 0) } }
        #expect(rows == [300, 200, 50])

        #expect(try setup.postgres.rows("stage", "SELECT count(*) FROM users WHERE email LIKE '%corp.example.org'") == [["0"]])
        #expect(try setup.mysql.rows("stage", "SELECT COUNT(*) FROM customers WHERE email LIKE '%corp.example.org'") == [["0"]])
        #expect(try setup.mongo.documents("stage", "messages").allSatisfy { !$0.contains("corp.example.org") })

        for source in [metrics, "\(gateway)/metrics"] {
            let (samples, types) = try Self.parseMetrics(source)
            for database in ["app", "legacy", "messages"] {
                let label = source == metrics ? "{database=\"\(database)\"}" : "{database=\"\(database)\",job=\"snapmask\"}"
                #expect(samples["snapmask_last_run_success\(label)"] == 1, "\(source) \(database)")
                #expect((samples["snapmask_last_success_timestamp_seconds\(label)"] ?? 0) > Date().timeIntervalSince1970 - 600)
                #expect(samples["snapmask_leak_check_hits\(label)"] == 0)
                #expect(samples["snapmask_failures_total\(label)"] == 0)
            }
            #expect(samples["snapmask_rows_written{database=\"app\"\(source == metrics ? "" : ",job=\"snapmask\"")}"] == 300)
            #expect(types["snapmask_failures"] == "counter" && types["snapmask_run_duration_seconds"] == "gauge")
        }

        // Logs: JSON lines, never the masking key or a password.
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count > 10)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] != nil && object?["level"] != nil && object?["message"] != nil, "\(line)")
        }
        for secret in [TestJob.maskingKey, "Pr0dPassw0rd"] {
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
            #expect(!(try String(contentsOfFile: report, encoding: .utf8)).contains(secret))
        }
    }

    @Test func oneSourceDownFailsItsDatabaseOnlyAndMetricsRecordIt() throws {
        let setup = try Self.setup("rundown", mysqlSource: "mysql://reader:MyS3cretPw@127.0.0.1:1/gone")
        defer { setup.cleanup() }
        let metrics = setup.job.directory.appendingPathComponent("snapmask.prom").path
        let result = try CommandRunner.run(["run", "--config", setup.job.path, "--from-source", "--continue-on-error",
                                            "--metrics-file", metrics])
        #expect(result.status == 1)
        #expect(result.stdout.contains("2 of 3 databases restored") && result.stdout.contains("FAILED  legacy"))
        #expect(try setup.postgres.rows("stage", "SELECT count(*) FROM users") == [["300"]])
        #expect(try setup.mongo.documents("stage", "messages").count == 50)
        let (samples, _) = try Self.parseMetrics(metrics)
        #expect(samples["snapmask_last_run_success{database=\"legacy\"}"] == 0)
        #expect(samples["snapmask_failures_total{database=\"legacy\"}"] == 1)
        #expect(samples["snapmask_last_success_timestamp_seconds{database=\"legacy\"}"] == nil)
        #expect(samples["snapmask_last_run_success{database=\"app\"}"] == 1)
        #expect(!result.stderr.contains("MyS3cretPw") && !result.stdout.contains("MyS3cretPw"))

        // The next failure adds to the counter; a success keeps it and sets the timestamp.
        _ = try CommandRunner.run(["run", "--config", setup.job.path, "--from-source", "--continue-on-error",
                                   "--metrics-file", metrics])
        #expect(try Self.parseMetrics(metrics).samples["snapmask_failures_total{database=\"legacy\"}"] == 2)

        // Without --continue-on-error the run stops at the failed database.
        let stopped = try CommandRunner.run(["run", "--config", setup.job.path, "--from-source", "--database", "legacy",
                                             "--database", "messages"])
        #expect(stopped.status == 1 && stopped.stdout.contains("0 of 1 databases"))
    }

    @Test func secondRunIsRefusedNamingTheHolder() throws {
        // The first run is slowed by a where: clause so the second one meets it.
        let setup = try Self.setup("runlock", postgresWhere: "pg_sleep(0.01) IS NOT NULL")
        defer { setup.cleanup() }
        let first = Process()
        first.executableURL = CommandRunner.executable
        first.arguments = ["run", "--config", setup.job.path, "--from-source", "--database", "app"]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer {
            if first.isRunning { first.terminate() }
            first.waitUntilExit()
        }
        let admin = try setup.postgres.connect("src")
        var copying = false
        for _ in 0..<100 where !copying {
            Thread.sleep(forTimeInterval: 0.05)
            copying = try admin.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'snapmask read public.users'")
                .rowCount > 0
        }
        #expect(copying)
        let started = Date()
        let second = try CommandRunner.run(["run", "--config", setup.job.path, "--from-source"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another snapmask run is restoring") && second.stderr.contains("since"))
        #expect(Date().timeIntervalSince(started) < 20, "refused at once, not after waiting")
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
    }
}
