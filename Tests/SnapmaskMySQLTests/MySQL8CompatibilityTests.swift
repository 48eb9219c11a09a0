import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// MySQL 8 and Aurora MySQL 3. No MySQL 8 server runs in the tests: what only MySQL 8 prints is
/// covered by SHOW CREATE TABLE texts written as MySQL 8.0 prints them (the reference manual's
/// syntax: functional key parts, `DEFAULT (expr)`, `GENERATED ALWAYS AS`, `/*!80023 INVISIBLE */`,
/// utf8mb4_0900_ai_ci), read by the driver's own schema code; what MariaDB shares (generated
/// columns under unique keys, local_infile off, collations the server lacks, the client's
/// caching_sha2_password plugin) runs against real servers.
@Suite struct MySQL8CompatibilityTests {
    /// SHOW CREATE TABLE as MySQL 8.0.30 prints it.
    static let users = """
        CREATE TABLE `users` (
          `id` bigint unsigned NOT NULL AUTO_INCREMENT,
          `public_id` binary(16) NOT NULL DEFAULT (uuid_to_bin(uuid())),
          `tenant_id` int NOT NULL,
          `email` varchar(255) COLLATE utf8mb4_0900_ai_ci NOT NULL,
          `first_name` varchar(100) NOT NULL,
          `last_name` varchar(100) NOT NULL,
          `full_name` varchar(201) GENERATED ALWAYS AS (concat(`first_name`,_utf8mb4' ',`last_name`)) VIRTUAL,
          `email_domain` varchar(255) GENERATED ALWAYS AS (substring_index(`email`,_utf8mb4'@',-(1))) STORED,
          `ssn` char(11) DEFAULT NULL /*!80023 INVISIBLE */,
          `settings` json DEFAULT (json_object()),
          `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
          `note` varchar(100) DEFAULT 'a, (b) AS (c)',
          PRIMARY KEY (`id`),
          UNIQUE KEY `users_public_id` (`public_id`),
          UNIQUE KEY `users_email_lower` ((lower(`email`))),
          UNIQUE KEY `users_tenant_name` (`tenant_id`,(lower(`last_name`)),(lower(`first_name`))),
          UNIQUE KEY `users_full_name` (`full_name`),
          KEY `users_created_day` ((cast(`created_at` as date))),
          KEY `users_domain` (`email_domain`),
          CONSTRAINT `users_chk_1` CHECK ((`tenant_id` > 0))
        ) ENGINE=InnoDB AUTO_INCREMENT=1001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
        """

    static let userColumns = ["id", "public_id", "tenant_id", "email", "first_name", "last_name", "full_name", "email_domain",
                              "ssn", "settings", "created_at", "note"]

    @Test func functionalAndGeneratedUniqueKeysAreFoundWithTheColumnsTheyRead() {
        let indexes = MySQLCreateTableText.uniqueExpressionIndexes(Self.users, columns: Self.userColumns)
        #expect(indexes == [
            UniqueExpressionIndex(name: "users_email_lower", key: "(lower(`email`))", columns: ["email"]),
            UniqueExpressionIndex(name: "users_tenant_name", key: "`tenant_id`, (lower(`last_name`)), (lower(`first_name`))",
                                  columns: ["tenant_id", "first_name", "last_name"]),
            UniqueExpressionIndex(name: "users_full_name", key: "`full_name`", columns: ["first_name", "last_name"]),
        ])
        // MariaDB prints generated columns as `AS (...) VIRTUAL`; a generated column on another
        // reads through it.
        let mariadb = """
            CREATE TABLE `people` (
              `id` int(11) NOT NULL,
              `email` varchar(255) NOT NULL,
              `email_lower` varchar(255) AS (lcase(`email`)) VIRTUAL,
              `email_key` varchar(300) AS (concat(`email_lower`,'#')) PERSISTENT,
              PRIMARY KEY (`id`),
              UNIQUE KEY `people_email_key` (`email_key`) USING BTREE
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """
        #expect(MySQLCreateTableText.uniqueExpressionIndexes(mariadb, columns: ["id", "email", "email_lower", "email_key"])
                    == [UniqueExpressionIndex(name: "people_email_key", key: "`email_key`", columns: ["email"])])
    }

    /// check refuses a transformer without distinct outputs on a column a unique functional index
    /// reads, naming the index, as for PostgreSQL's expression indexes.
    @Test func checkRefusesMaskingThatCouldCollideInAUniqueFunctionalIndex() throws {
        // The columns as the catalog would describe them (its own categories).
        let columns = Self.userColumns.map { name -> ColumnShape in
            let generated = ["full_name", "email_domain"].contains(name)
            let type = ["id", "tenant_id"].contains(name) ? "int" : "varchar(255)"
            return ColumnShape(name: name, typeName: type,
                               category: MySQLCatalog.category(dataType: type.hasPrefix("int") ? "int" : "varchar", columnType: type),
                               maxLength: type.hasPrefix("varchar") ? 255 : nil, nullable: true, isGenerated: generated)
        }
        let table = TableShape(name: "users", columns: columns, primaryKey: ["id"], uniqueKeys: [["id"], ["public_id"], ["full_name"]],
                               uniqueExpressionIndexes: MySQLCreateTableText.uniqueExpressionIndexes(Self.users, columns: Self.userColumns))
        let job = try TestJob(engine: .mysql, source: "mysql://r@127.0.0.1:1/app", target: "mysql://r@127.0.0.1:2/stage", rules: """
            tables:
              users:
                columns:
                  id: keep
                  public_id: keep
                  tenant_id: keep
                  email: { transform: email, unique: true }
                  first_name: first_name
                  last_name: { transform: hash, unique: true }
                  full_name: keep
                  email_domain: keep
                  ssn: ssn
                  settings: keep
                  created_at: keep
                  note: keep
            """)
        defer { job.remove() }
        let problems = SchemaCheck.problems(rules: try job.database("app").rules, schema: SchemaShape(tables: [table]))
            .map(\.description)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("users.first_name: column is read by unique index users_tenant_name on "
                                              + "(`tenant_id`, (lower(`last_name`)), (lower(`first_name`))) but first_name "
                                              + "cannot promise distinct outputs") == true, "\(problems)")
    }

    /// The schema code keeps MySQL 8's column syntax in the CREATE it replays, and adds functional
    /// indexes after the data like any other.
    @Test func mysql8TableTextSplitsIntoTableAndDeferredIndexes() {
        let table = MySQLSchemaObjects.split(Self.users, table: "users", autoIncrementColumn: "id", hasPrimaryKey: true,
                                             foreignKeys: [:])
        #expect(table.deferredIndexes == [
            "UNIQUE KEY `users_public_id` (`public_id`)",
            "UNIQUE KEY `users_email_lower` ((lower(`email`)))",
            "UNIQUE KEY `users_tenant_name` (`tenant_id`,(lower(`last_name`)),(lower(`first_name`)))",
            "UNIQUE KEY `users_full_name` (`full_name`)",
            "KEY `users_created_day` ((cast(`created_at` as date)))",
            "KEY `users_domain` (`email_domain`)",
        ])
        for kept in ["DEFAULT (uuid_to_bin(uuid()))", "GENERATED ALWAYS AS (concat(`first_name`,_utf8mb4' ',`last_name`)) VIRTUAL",
                     "/*!80023 INVISIBLE */", "DEFAULT (json_object())", "CONSTRAINT `users_chk_1` CHECK ((`tenant_id` > 0))",
                     "PRIMARY KEY (`id`)", "COLLATE=utf8mb4_0900_ai_ci"] {
            #expect(table.createSQL.contains(kept), "\(kept)")
        }
        #expect(!table.createSQL.contains("KEY `users_email_lower`"))
        #expect(MySQLCreateTableText.collations(Self.users) == ["utf8mb4_0900_ai_ci"])
    }

    /// MySQL 8's EXTRA: `DEFAULT_GENERATED` is a stored column with a `DEFAULT (expr)` (copied and
    /// ruled like any other), not a generated one.
    @Test func defaultGeneratedIsNotAGeneratedColumn() {
        for extra in ["DEFAULT_GENERATED", "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", "INVISIBLE", "auto_increment",
                      "DEFAULT_GENERATED INVISIBLE", ""] {
            #expect(!MySQLCatalog.isGenerated(extra: extra), "\(extra)")
        }
        for extra in ["VIRTUAL GENERATED", "STORED GENERATED", "VIRTUAL GENERATED INVISIBLE", "PERSISTENT GENERATED"] {
            #expect(MySQLCatalog.isGenerated(extra: extra), "\(extra)")
        }
    }

    /// On MariaDB (a unique key on a virtual column is its way to a functional index): the catalog
    /// finds it through SHOW CREATE TABLE, and check names it.
    @Test func aUniqueKeyOnAGeneratedColumnIsCheckedAgainstTheColumnsItReads() throws {
        let scratch = try MySQLScratch("mygenuniq")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(100) NOT NULL,
                                 email_lower varchar(100) AS (LOWER(email)) VIRTUAL, UNIQUE KEY people_email_lower (email_lower));
            """)
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              people: { columns: { id: keep, email: { transform: partial, keep_first: 2 }, email_lower: keep } }
            """)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let schema = try MySQLEngine(job: database).inspectSource()
        #expect(schema.table(named: "people")?.uniqueExpressionIndexes
                    == [UniqueExpressionIndex(name: "people_email_lower", key: "`email_lower`", columns: ["email"])])
        let problems = SchemaCheck.problems(rules: rules, schema: schema).map(\.description)
        #expect(problems == ["people.email: column is read by unique index people_email_lower on (`email_lower`) but partial "
                                 + "cannot promise distinct outputs, so the index would fail after the copy; use a transformer "
                                 + "that can (email, hash, uuid, username, phone, digits, ...)"], "\(problems)")
    }

    /// A MySQL 8 schema restored into a server without its collations stops before anything is
    /// created, naming them and the tables using them.
    @Test func collationsTheStagingServerLacksAreNamed() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql(), database: .none)
        guard connection.isMariaDB else { return }  // MySQL 8 has them
        let mysql8 = MySQLSchemaObjects(
            characterSet: "utf8mb4", collation: "utf8mb4_0900_ai_ci",
            tables: [MySQLSchemaObjects.split(Self.users, table: "users", autoIncrementColumn: "id", hasPrimaryKey: true,
                                              foreignKeys: [:]),
                     MySQLTableDefinition(name: "plain", createSQL: "CREATE TABLE `plain` (\n  `id` int\n) COLLATE=utf8mb4_unicode_ci",
                                          deferredIndexes: [], foreignKeys: [])],
            routines: [], views: [], triggers: [])
        let missing = try MySQLTarget.missingCollations(mysql8, on: connection)
        #expect(missing.map(\.collation) == ["utf8mb4_0900_ai_ci"])
        #expect(missing.first?.users == ["the database", "users"])
    }

    /// caching_sha2_password (MySQL 8's default for new accounts) is a plugin of the client
    /// library, loaded from its folder: it must be there, and the errors around it say what to do.
    @Test func theClientCanAuthenticateWithCachingSha2Password() throws {
        #expect(MySQLClientPlugins.canAuthenticate(with: "caching_sha2_password"))
        #expect(!MySQLClientPlugins.canAuthenticate(with: "no_such_plugin"))
        let tls = try MySQLTLS(url: try ConnectionString("mysql://app@127.0.0.1/app"))
        #expect(tls.advice(code: 2061, message: "Authentication plugin 'caching_sha2_password' reported error: Couldn't read "
                                                + "RSA public key from server")?.contains("caching_sha2_password (MySQL 8's default)") == true)
        #expect(tls.advice(code: 3159, message: "Connections using insecure transport are prohibited while "
                                                + "--require_secure_transport=ON.")?.contains("require_secure_transport = ON") == true)
    }

    /// LOAD DATA LOCAL refused (local_infile off, MySQL 8's default) names the parameter group setting.
    @Test func loadDataLocalRefusalsNameTheSetting() {
        for code: UInt32 in [3948, 4166, 1148, 2068] {
            let error = MySQLLocalInfile.explained(MySQLError("Loading local data is disabled", code: code))
            #expect(error.message.contains("set local_infile = 1 in the DB cluster (or DB) parameter group"), "\(code)")
        }
        #expect(MySQLLocalInfile.explained(MySQLError("Duplicate entry", code: 1062)).message == "Duplicate entry")
    }

    /// A staging server started with local_infile off (a MariaDB of the test's own) refuses the
    /// restore before the shadow copy exists.
    @Test func aStagingServerWithoutLocalInfileStopsTheRestoreBeforeAnythingIsWritten() throws {
        let scratch = try MySQLScratch("myinfile")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        let staging = try ThrowawayMariaDB(options: ["--local-infile=0"])
        defer { staging.stop() }
        try MySQLConnection(url: staging.url, database: .none).query("CREATE DATABASE stage")
        let job = try TestJob(engine: .mysql, source: try scratch.url("src").raw,
                              target: try TestServers.replacingDatabase(of: staging.url, with: "stage").raw,
                              rules: "tables:\n  t: { columns: { id: keep } }\n")
        defer { job.remove() }
        #expect {
            try job.restore("app")
        } throws: { error in
            "\(error)".contains("local_infile is OFF on the staging server")
                && "\(error)".contains("set local_infile = 1 in the DB cluster (or DB) parameter group")
        }
        #expect(try MySQLConnection(url: staging.url, database: .none)
                    .query("SHOW DATABASES LIKE 'stage%'").compactMap { $0[0] } == ["stage"])
    }
}

/// A MariaDB of the test's own, on a free port under a temporary folder, started as
/// scripts/services starts one (mariadb-install-db, then mariadbd), with extra server options.
final class ThrowawayMariaDB: @unchecked Sendable {
    let port: Int
    let directory: String
    let url: ConnectionString
    private var pid: pid_t = 0

    init(options: [String]) throws {
        directory = "/tmp/snapmask-my-\(UInt32.random(in: 0...UInt32.max))"
        port = try Self.freePort()
        url = try ConnectionString("mysql://root@127.0.0.1:\(port)/mysql")
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        let asMySQL = getuid() == 0 ? ["--user=mysql"] : []
        if getuid() == 0 { _ = chown(directory, Self.mysqlUser, Self.mysqlGroup); _ = chown("\(directory)/data", Self.mysqlUser, Self.mysqlGroup) }
        let installed = try Self.spawn(["/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=\(directory)/data"] + asMySQL
                                           + ["--auth-root-authentication-method=normal", "--skip-test-db"], output: "\(directory)/install.log")
        guard Self.wait(installed) == 0 else { throw MySQLError("mariadb-install-db failed: \(log("install.log"))") }
        pid = try Self.spawn(["/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(directory)/data"] + asMySQL
                                 + ["--bind-address=127.0.0.1", "--port=\(port)", "--socket=\(directory)/mariadbd.sock",
                                    "--pid-file=\(directory)/mariadbd.pid", "--log-error=\(directory)/error.log"] + options,
                             output: "\(directory)/mariadbd.out")
        let deadline = Date().addingTimeInterval(60)
        while true {
            if (try? MySQLConnection(url: url, database: .none, connectTimeout: 2)) != nil { break }
            guard Date() < deadline else {
                stop()
                throw MySQLError("the test's MariaDB did not start: \(log("error.log"))")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    func stop() {
        if pid > 0 {
            kill(pid, SIGTERM)
            _ = Self.wait(pid)
            pid = 0
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? ""
    }

    static var mysqlUser: uid_t { getpwnam("mysql")?.pointee.pw_uid ?? 0 }
    static var mysqlGroup: gid_t { getpwnam("mysql")?.pointee.pw_gid ?? 0 }

    /// Spawned directly (output to a file), so the server is this process's child to wait for.
    static func spawn(_ argv: [String], output: String) throws -> pid_t {
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
        guard spawned == 0 else { throw MySQLError("could not start \(argv[0]) (errno \(spawned))") }
        return pid
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw MySQLError("no socket for finding a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw MySQLError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
