import Foundation
import Testing
@testable import Snapmask

/// The job, rule and override files of DESIGN.md, written to a temporary directory and loaded.
@Suite struct ConfigParsingTests {
    static let jobText = """
        # snapmask.yaml
        masking_key: ${SNAPMASK_MASKING_KEY}        # HMAC key for deterministic masking
        store: file:///var/lib/snapmask/snapshots   # where sanitized snapshots live
        databases:
          app:
            engine: postgres
            source: postgres://reader:${PROD_PG_PASSWORD}@${POSTGRES_READ_HOST}/app
            target: postgres://snapmask:${STAGING_PG_PASSWORD}@${POSTGRES_HOST}/app
            rules: rules/postgres/app.yaml
            overrides: rules/overrides/postgres/app.yaml
          messages:
            engine: documentdb
            source: mongodb://${MONGODB_READ_HOST}/messages
            target: mongodb://${MONGODB_HOST:-staging-mongo:27017}/messages
            rules: rules/documentdb/messages.yaml
            overrides: rules/overrides/documentdb/messages.yaml
        """

    static let postgresRules = """
        unlisted: fail                   # fail (default) | keep
        tables:
          public.users:
            columns:
              id: keep
              email: { transform: email, unique: true }
              first_name: first_name
              phone: { transform: phone, keep_last: 2 }
              ssn: null
              date_of_birth: { transform: date_shift, max_days: 180 }
              profile: { transform: json, paths: { contact.email: email, "contact.phones[]": phone } }
              tags: { transform: lorem, array: true }
          public.audit_log: { data: skip }                 # schema only
          public.orders:
            where: "created_at > now() - interval '180 days'"
            columns: { id: keep, user_id: keep, shipping_address: address }
        """

    static let documentRules = """
        unlisted: keep
        collections:
          messages:
            filter: { archived: false, "sender.kind": { $ne: bot } }
            fields:
              _id: keep
              sender.email: email
              "recipients[].email": { transform: email, keep_domain: true }
              body: lorem
          attachments: { data: skip }
        """

    static let postgresOverrides = """
        - name: reset passwords
          table: public.users
          set: { password_hash: "${STAGING_PASSWORD_HASH}", login_attempts: 0, webhook_url: null, updated_at: { sql: "now()" } }
          where: "role <> 'admin'"
        - sql: sql/staging_admin.sql
        - table: public.feature_flags
          set:
            enabled: true
            ratio: 0.25
        """

    static let documentOverrides = """
        - collection: devices
          set: { push_token: null }
          filter: { platform: ios }
        """

    static let adminSQL = "UPDATE public.users SET role = 'admin' WHERE email = 'qa@example.com';\n"

    static let environment = [
        "SNAPMASK_MASKING_KEY": "k3y-material-that-is-long-enough",
        "PROD_PG_PASSWORD": "pr0d-Secret",
        "STAGING_PG_PASSWORD": "st4ging-Secret",
        "POSTGRES_READ_HOST": "prod-db.internal:5432",
        "POSTGRES_HOST": "staging-db.internal",
        "MONGODB_READ_HOST": "prod-mongo.internal",
        "STAGING_PASSWORD_HASH": "$2b$12$staginghash",
    ]

    /// Writes the DESIGN.md layout and loads it through the job file.
    static func load() throws -> (JobFile, TempDir) {
        let dir = try TempDir()
        let jobPath = try dir.write("snapmask.yaml", jobText)
        try dir.write("rules/postgres/app.yaml", postgresRules)
        try dir.write("rules/documentdb/messages.yaml", documentRules)
        try dir.write("rules/overrides/postgres/app.yaml", postgresOverrides)
        try dir.write("rules/overrides/postgres/sql/staging_admin.sql", adminSQL)
        try dir.write("rules/overrides/documentdb/messages.yaml", documentOverrides)
        return (try JobFile.load(path: jobPath, environment: environment), dir)
    }

    @Test func jobFileNamesTheDatabases() throws {
        let (job, dir) = try Self.load()
        #expect(job.path == dir.path + "/snapmask.yaml")
        #expect(job.store == "file:///var/lib/snapmask/snapshots")
        #expect(try job.maskingKey.bytes == Array("k3y-material-that-is-long-enough".utf8))
        #expect(job.databases.map(\.name) == ["app", "messages"])

        let app = try job.database(named: "app")
        #expect(app.engine == .postgres)
        #expect(app.source.scheme == "postgres")
        #expect(app.source.user == "reader")
        #expect(app.source.password == "pr0d-Secret")
        #expect(app.source.hosts == "prod-db.internal:5432")
        #expect(app.source.database == "app")
        #expect(app.source.raw == "postgres://reader:pr0d-Secret@prod-db.internal:5432/app")
        #expect(app.target.raw == "postgres://snapmask:st4ging-Secret@staging-db.internal/app")
        #expect(app.target.description == "postgres://snapmask:***@staging-db.internal/app")
        #expect(app.rules.path == dir.path + "/rules/postgres/app.yaml")
        #expect(app.overrides.path == dir.path + "/rules/overrides/postgres/app.yaml")

        let messages = try job.database(named: "messages")
        #expect(messages.engine == .documentdb)
        #expect(messages.source.raw == "mongodb://prod-mongo.internal/messages")
        #expect(messages.target.raw == "mongodb://staging-mongo:27017/messages")
        #expect(messages.target.primaryHost.host == "staging-mongo")
        #expect(messages.target.primaryHost.port == 27017)
        #expect(messages.rules.kind == .collections)
        #expect(throws: ConfigError.self) { try job.database(named: "nope") }
    }

    @Test func tableRules() throws {
        let (job, _) = try Self.load()
        let rules = try job.database(named: "app").rules
        #expect(rules.kind == .tables)
        #expect(rules.unlisted == .fail)
        #expect(rules.tables.map(\.name) == ["public.users", "public.audit_log", "public.orders"])

        let users = try #require(rules.table(named: "public.users"))
        #expect(users.skipData == false && users.whereClause == nil && users.filter == nil)
        #expect(users.columns.map(\.name)
                    == ["id", "email", "first_name", "phone", "ssn", "date_of_birth", "profile", "tags"])
        #expect(users.column(named: "id")?.spec.name == "keep")
        let email = try #require(users.column(named: "email"))
        #expect(email.spec.name == "email" && email.spec.unique && email.spec.options.isEmpty)
        #expect(email.location.line == 6 && email.location.column == 7)
        #expect(users.column(named: "first_name")?.spec.name == "first_name")
        #expect(users.column(named: "first_name")?.spec.options.isEmpty == true)
        let phone = try #require(users.column(named: "phone"))
        #expect(phone.spec.name == "phone" && !phone.spec.unique)
        #expect(phone.spec.options["keep_last"]?.content == .text("2"))
        #expect(users.column(named: "ssn")?.spec.name == "null", "`ssn: null` means the null transformer")
        #expect(users.column(named: "date_of_birth")?.spec.options["max_days"]?.content == .text("180"))
        let tags = try #require(users.column(named: "tags"))
        #expect(tags.spec.name == "lorem" && tags.perElement)
        #expect(phone.perElement == false)

        let profile = try #require(users.column(named: "profile"))
        #expect(profile.spec.name == "json")
        guard case let .paths(paths)? = profile.spec.options["paths"]?.content else {
            Issue.record("json paths not read as paths: \(String(describing: profile.spec.options["paths"]))")
            return
        }
        #expect(paths.map(\.path) == ["contact.email", "contact.phones[]"])
        #expect(paths.map(\.spec.name) == ["email", "phone"])

        let audit = try #require(rules.table(named: "public.audit_log"))
        #expect(audit.skipData && audit.columns.isEmpty)

        let orders = try #require(rules.table(named: "public.orders"))
        #expect(orders.whereClause == "created_at > now() - interval '180 days'")
        #expect(orders.columns.map(\.name) == ["id", "user_id", "shipping_address"])
        #expect(orders.columns.map(\.spec.name) == ["keep", "keep", "address"])

        // The rules of DESIGN.md compile with the catalog.
        let compiled = try CompiledRules.compile(rules, key: job.maskingKey)
        #expect(compiled.table(named: "public.users")?.column(named: "id")?.isKeep == true)
        #expect(compiled.table(named: "public.users")?.column(named: "email")?.transformer.isUnique == true)
    }

    @Test func collectionRules() throws {
        let (job, _) = try Self.load()
        let rules = try job.database(named: "messages").rules
        #expect(rules.kind == .collections)
        #expect(rules.unlisted == .keep)
        #expect(rules.tables.map(\.name) == ["messages", "attachments"])
        let messages = try #require(rules.table(named: "messages"))
        #expect(messages.filter == .object([("archived", .bool(false)),
                                            ("sender.kind", .object([("$ne", .string("bot"))]))]))
        #expect(messages.whereClause == nil)
        #expect(messages.columns.map(\.name) == ["_id", "sender.email", "recipients[].email", "body"])
        #expect(messages.columns.map(\.spec.name) == ["keep", "email", "email", "lorem"])
        #expect(messages.column(named: "recipients[].email")?.spec.options["keep_domain"]?.content == .text("true"))
        #expect(rules.table(named: "attachments")?.skipData == true)
    }

    @Test func overrideStepsInOrder() throws {
        let (job, dir) = try Self.load()
        let steps = try job.database(named: "app").overrides.steps
        #expect(steps.count == 3)
        guard steps.count == 3 else { return }

        guard case let .update(reset) = steps[0] else { Issue.record("step 1 is not a set step"); return }
        #expect(reset.name == "reset passwords")
        #expect(reset.target == "public.users" && !reset.isCollection)
        #expect(reset.assignments.map(\.column) == ["password_hash", "login_attempts", "webhook_url", "updated_at"])
        #expect(reset.assignments.map(\.value) == [.string("$2b$12$staginghash"), .int(0), .null,
                                                   .object([("sql", .string("now()"))])])
        #expect(reset.whereClause == "role <> 'admin'")
        #expect(reset.filter == nil)
        #expect(steps[0].title == "reset passwords")

        guard case let .sql(sql) = steps[1] else { Issue.record("step 2 is not an SQL step"); return }
        #expect(sql.path == "sql/staging_admin.sql")
        #expect(sql.text == Self.adminSQL)
        #expect(sql.location.line == 5)

        guard case let .update(flags) = steps[2] else { Issue.record("step 3 is not a set step"); return }
        #expect(flags.target == "public.feature_flags")
        #expect(flags.assignments.map(\.column) == ["enabled", "ratio"])
        #expect(flags.assignments.map(\.value) == [.bool(true), .double(0.25)])
        #expect(flags.whereClause == nil)

        let documentSteps = try job.database(named: "messages").overrides.steps
        guard documentSteps.count == 1, case let .update(devices) = documentSteps[0] else {
            Issue.record("documentdb overrides: \(documentSteps)")
            return
        }
        #expect(devices.isCollection && devices.target == "devices")
        #expect(devices.assignments.map(\.column) == ["push_token"])
        #expect(devices.assignments.map(\.value) == [.null])
        #expect(devices.filter == .object([("platform", .string("ios"))]))
        #expect(devices.whereClause == nil)
        _ = dir
    }

    @Test func unlistedDefaultsToFail() throws {
        let rules = try RuleSet.parse("tables:\n  t: { columns: { id: keep } }\n", file: "r.yaml")
        #expect(rules.unlisted == .fail)
        #expect(try RuleSet.parse("unlisted: keep\ntables: { t: { data: skip } }\n", file: "r.yaml").unlisted == .keep)
        #expect(try RuleSet.parse("tables: { t: { columns: { ssn: ~, x: { transform: null } } } }", file: "r.yaml")
                    .tables[0].columns.map(\.spec.name) == ["null", "null"])
    }

    @Test func databaseWithoutOverridesHasNoSteps() throws {
        let dir = try TempDir()
        let job = try dir.write("jobs/job.yaml", """
            masking_key: 0123456789abcdef0123
            databases:
              shop:
                engine: mysql
                source: mysql://reader@prod:3306/shop
                target: mysql://writer@staging:3306/shop
                rules: ../rules/shop.yaml
            """)
        try dir.write("rules/shop.yaml", "tables:\n  orders: { columns: { id: keep } }\n")
        let loaded = try JobFile.load(path: job, environment: [:])
        let shop = try loaded.database(named: "shop")
        #expect(shop.engine == .mysql)
        #expect(shop.overrides.steps.isEmpty)
        #expect(shop.rules.tables.map(\.name) == ["orders"])
        #expect(loaded.store == nil)
    }
}
