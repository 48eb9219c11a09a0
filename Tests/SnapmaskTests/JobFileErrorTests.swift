import Foundation
import Testing
@testable import Snapmask

/// Job-file and override-file mistakes, loaded from files in a temporary directory.
@Suite struct JobFileErrorTests {
    static let key = "0123456789abcdef0123456789"
    static let rules = "tables:\n  t: { columns: { id: keep } }\n"

    /// Writes a job file (and a rule file it can name as rules.yaml) and loads it.
    func load(_ job: String, environment: [String: String] = [:],
              files: [String: String] = [:]) throws -> (JobFile, String) {
        let dir = try TempDir()
        try dir.write("rules.yaml", Self.rules)
        for (path, text) in files { try dir.write(path, text) }
        let path = try dir.write("job.yaml", job)
        return (try JobFile.load(path: path, environment: environment), path)
    }

    func loadErrors(_ job: String, environment: [String: String] = [:], files: [String: String] = [:])
        -> (errors: [ConfigError], path: String) {
        var jobPath = ""
        let errors = configErrors {
            let dir = try TempDir()
            try dir.write("rules.yaml", Self.rules)
            for (path, text) in files { try dir.write(path, text) }
            jobPath = try dir.write("job.yaml", job)
            return try JobFile.load(path: jobPath, environment: environment)
        }
        return (errors, jobPath)
    }

    func database(engine: String = "postgres", source: String = "postgres://reader@prod-db/app",
                  target: String = "postgres://writer@staging-db/app", extra: String = "") -> String {
        """
        masking_key: \(Self.key)
        databases:
          app:
            engine: \(engine)
            source: \(source)
            target: \(target)
            rules: rules.yaml
        \(extra)
        """
    }

    @Test func validJobLoads() throws {
        let (job, _) = try load(database())
        #expect(job.databases.count == 1)
    }

    @Test func unknownTopLevelKey() {
        let text = "masking_key: \(Self.key)\ndatabses:\n  app: {}\n"
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 1)
        expectLocation(errors.first, file: path, at: "databses", in: text)
        #expect(errors.first?.message.contains("did you mean 'databases'") == true, "\(errors)")
    }

    @Test func unknownDatabaseKey() {
        let text = database(extra: "    overides: o.yaml")
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 1)
        expectLocation(errors.first, file: path, at: "overides", in: text)
        #expect(errors.first?.message.contains("did you mean 'overrides'") == true, "\(errors)")
    }

    @Test func missingVariableNamesItAndTheLocation() {
        let text = database(source: "postgres://reader:${PROD_PG_PASSWORD}@prod-db/app")
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 1)
        expectLocation(errors.first, file: path, at: "postgres://reader:", in: text)
        #expect(errors.first?.message.contains("PROD_PG_PASSWORD") == true, "\(errors)")
        #expect(errors.first?.message.contains("not set") == true, "\(errors)")
    }

    @Test func variableWithDefault() throws {
        let text = database(target: "postgres://writer@${STAGING_HOST:-localhost:5433}/app")
        let (job, _) = try load(text)
        #expect(job.databases.first?.target.raw == "postgres://writer@localhost:5433/app")
        let (overridden, _) = try load(text, environment: ["STAGING_HOST": "staging-db"])
        #expect(overridden.databases.first?.target.raw == "postgres://writer@staging-db/app")
    }

    @Test func targetEqualToSourceIsRefused() {
        // Same server and database, written differently (user, case, default port).
        let text = database(source: "postgres://reader@db.example.net/app",
                            target: "postgres://writer@DB.example.net:5432/app")
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.location?.file == path)
        #expect(errors.first?.location?.line == 3, "the database entry")
        #expect(errors.first?.message.contains("never writes into a source") == true, "\(errors)")
    }

    @Test func targetEqualToAnotherDatabasesSourceIsRefused() {
        let text = """
            masking_key: \(Self.key)
            databases:
              app:
                engine: postgres
                source: postgres://reader@prod-db/app
                target: postgres://writer@staging-db/app
                rules: rules.yaml
              billing:
                engine: postgres
                source: postgres://reader@prod-db/billing
                target: postgres://writer@prod-db/app
                rules: rules.yaml
            """
        let (errors, _) = loadErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains("'billing'") == true && errors.first?.message.contains("'app'") == true)
    }

    @Test func engineAndURLSchemeMismatch() {
        let text = database(engine: "mysql")
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 2, "source and target are both postgres:// URLs: \(errors)")
        #expect(errors.allSatisfy { $0.location?.file == path && $0.location?.line == 3 })
        #expect(errors.first?.message.contains("postgres://") == true && errors.first?.message.contains("mysql") == true)
    }

    @Test func tooShortMaskingKey() {
        let text = "masking_key: short-key\ndatabases:\n  app:\n    engine: postgres\n"
            + "    source: postgres://r@prod/app\n    target: postgres://w@staging/app\n    rules: rules.yaml\n"
        let (errors, path) = loadErrors(text)
        #expect(errors.count == 1, "\(errors)")
        expectLocation(errors.first, file: path, at: "short-key", in: text)
        #expect(errors.first?.message.contains("too short") == true)
        #expect(errors.first?.message.contains("16") == true, "says how long it must be")
        #expect(errors.allSatisfy { !$0.description.contains("short-key") }, "the key is a secret")
    }

    @Test func missingSQLFileInOverrides() {
        let overrides = "- table: public.users\n  set: { password_hash: x }\n- sql: sql/missing.sql\n"
        let text = database(extra: "    overrides: overrides/app.yaml")
        let (errors, path) = loadErrors(text, files: ["overrides/app.yaml": overrides])
        #expect(errors.count == 1, "\(errors)")
        let overridePath = FilePaths.directory(of: path) + "/overrides/app.yaml"
        expectLocation(errors.first, file: overridePath, at: "sql/missing.sql", in: overrides)
        #expect(errors.first?.message.contains("overrides/sql/missing.sql") == true, "\(errors)")
    }

    @Test func missingRuleFile() {
        let text = database().replacingOccurrences(of: "rules: rules.yaml", with: "rules: nope.yaml")
        let (errors, _) = loadErrors(text)
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("nope.yaml") == true, "\(errors)")
    }

    @Test func ruleKindMustFitTheEngine() {
        let text = database(engine: "documentdb", source: "mongodb://prod/app", target: "mongodb://staging/app")
        let (errors, _) = loadErrors(text)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains("collections:") == true, "\(errors)")
    }

    @Test func overrideStepOfTheWrongKind() {
        let overrides = "- collection: devices\n  set: { token: null }\n"
        let text = database(extra: "    overrides: o.yaml")
        let (errors, _) = loadErrors(text, files: ["o.yaml": overrides])
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.contains("table:") == true, "\(errors)")
    }

    @Test func errorsOfJobAndRuleFilesAreReportedTogether() {
        let text = """
            masking_key: short
            databases:
              app:
                engine: postgres
                source: postgres://reader:${MISSING_PASSWORD}@prod/app
                target: postgres://w@staging/app
                rules: bad-rules.yaml
            """
        let (errors, _) = loadErrors(text, files: ["bad-rules.yaml": "unlisted: maybe\ntables:\n  t: { columns: { id: } }\n"])
        #expect(errors.count == 4, "key, variable, unlisted, empty rule: \(errors)")
    }

    /// An override's value is written into staging: it may not expand snapmask's keys or a
    /// variable that a source URL uses (a production password).
    @Test func overridesMayNotExpandSecrets() {
        let job = """
            masking_key: ${SNAPMASK_MASKING_KEY}
            databases:
              app:
                engine: postgres
                source: postgres://reader:${PROD_PG_PASSWORD}@prod-db/app
                target: postgres://writer@staging-db/app
                rules: rules.yaml
                overrides: overrides.yaml
            """
        let environment = ["SNAPMASK_MASKING_KEY": Self.key, "PROD_PG_PASSWORD": "s3cret-prod", "SNAPMASK_ARCHIVE_KEY": "k",
                           "STAGING_HASH": "$2b$staging"]
        for (variable, reason) in [("PROD_PG_PASSWORD", "source URL of database 'app'"), ("SNAPMASK_ARCHIVE_KEY", "snapmask's own keys"),
                                   ("SNAPMASK_MASKING_KEY", "snapmask's own keys")] {
            let overrides = "- table: users\n  set: { note: \"${\(variable)}\" }\n"
            let (errors, _) = loadErrors(job, environment: environment, files: ["overrides.yaml": overrides])
            #expect(errors.count == 1 && errors[0].message.contains("may not use ${\(variable)}")
                        && errors[0].message.contains(reason), "\(errors)")
            #expect(errors[0].location?.file.hasSuffix("overrides.yaml") == true && errors[0].location?.line == 2)
            #expect(!errors.description.contains("s3cret-prod"))
        }
        let allowed = "- table: users\n  set: { password_hash: \"${STAGING_HASH}\" }\n"
        #expect(throws: Never.self) { try load(job, environment: environment, files: ["overrides.yaml": allowed]) }
    }
}
