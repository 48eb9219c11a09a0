import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// The command line as a DBA meets it: output, messages and the documented exit codes
/// (0 success, 1 the job or check failed, 2 bad usage or configuration).
@Suite struct CommandLineTests {
    static let key = "command-line-test-key-0001"

    @Test func versionAndHelp() throws {
        let version = try CommandRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == SnapmaskVersion.current)
        let help = try CommandRunner.run(["--help"])
        #expect(help.status == 0)
        for command in ["transformers", "try", "check"] { #expect(help.stdout.contains(command)) }
    }

    @Test func transformersListsEveryTransformerWithAnExample() throws {
        let result = try CommandRunner.run(["transformers"])
        #expect(result.status == 0)
        for name in TransformerCatalog.names {
            #expect(result.stdout.contains("\n\(name) — ") || result.stdout.hasPrefix("\(name) — "), "\(name)")
        }
        #expect(result.stdout.components(separatedBy: "  example").count - 1 == TransformerCatalog.names.count)
        #expect(try CommandRunner.run(["transformers", "nope"]).status == 2)
    }

    @Test func tryPrintsWhatTheCoreComputesWithTheKeyFromTheEnvironment() throws {
        let result = try CommandRunner.run(["try", "email", "jane@corp.io", "\\N", ""],
                                           environment: ["SNAPMASK_MASKING_KEY": Self.key])
        #expect(result.status == 0)
        let expected = try TransformerCatalog.compile(TransformSpec(name: "email"), key: try MaskingKey(Self.key))
        #expect(result.stdout == "\(try expected.mask("jane@corp.io")!)\n\\N\n\n")
    }

    @Test func tryReadsValuesFromStandardInput() throws {
        let result = try CommandRunner.run(["try", "phone", "--option", "keep_last=2"], environment: ["SNAPMASK_MASKING_KEY": Self.key],
                                           input: "+1 (415) 555-0132\n555-0100\n")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("+1 (") == true && lines.first?.hasSuffix("32") == true)
    }

    @Test func tryWithoutAKeyIsAUsageError() throws {
        let result = try CommandRunner.run(["try", "email", "x"], environment: ["SNAPMASK_MASKING_KEY": nil])
        #expect(result.status == 2)
        #expect(result.stderr.contains("SNAPMASK_MASKING_KEY"))
    }

    @Test func tryUsageAndValueErrorsHaveTheirCodes() throws {
        let env: [String: String?] = ["SNAPMASK_MASKING_KEY": Self.key]
        let unknown = try CommandRunner.run(["try", "emial", "x"], environment: env)
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean 'email'"))
        let badOption = try CommandRunner.run(["try", "hash", "--option", "lenght=3", "x"], environment: env)
        #expect(badOption.status == 2 && badOption.stderr.contains("'length'"))
        let notUnique = try CommandRunner.run(["try", "first_name", "--unique", "x"], environment: env)
        #expect(notUnique.status == 2 && notUnique.stderr.contains("cannot promise unique"))
        let notADate = try CommandRunner.run(["try", "date_shift", "not-a-date"], environment: env)
        #expect(notADate.status == 1)
        #expect(!notADate.stderr.contains("not-a-date"), "a value that cannot be masked is never echoed")
        #expect(try CommandRunner.run(["bogus"]).status == 2)
    }

    /// `try json` gives exactly what a restore writes into a JSON column: subtrees keep their
    /// structure, and a key no path covers is refused.
    @Test func tryJSONKeepsTheStructureOfSubtrees() throws {
        let env: [String: String?] = ["SNAPMASK_MASKING_KEY": Self.key]
        let key = try MaskingKey(Self.key)
        let email = try TransformerCatalog.compile(TransformSpec(name: "email"), key: key)
        let cases: [(paths: String, input: String, output: String)] = [
            ("list=keep", #"{"list":[1,2,"x"]}"#, #"{"list":[1,2,"x"]}"#),
            ("tags[]=keep", #"{"tags":[{"a":1},[2]]}"#, #"{"tags":[{"a":1},[2]]}"#),
            ("contact=email", #"{"contact":{"email":"a@b.io","work":"c@d.io"}}"#,
             #"{"contact":{"email":"\#(try email.mask("a@b.io")!)","work":"\#(try email.mask("c@d.io")!)"}}"#),
        ]
        for (paths, input, output) in cases {
            let result = try CommandRunner.run(["try", "json", "--option", "paths=\(paths)", input], environment: env)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == output + "\n", "\(paths)")
        }
        let unruled = try CommandRunner.run(["try", "json", "--option", "paths=a=keep", #"{"a":1,"ssn":"123-45-6789"}"#],
                                            environment: env)
        #expect(unruled.status == 1)
        #expect(unruled.stderr.contains("path ssn has no rule") && !unruled.stderr.contains("123-45"), "\(unruled.stderr)")
        let unique = try CommandRunner.run(["try", "email", "--option", "unique=true", "x"], environment: env)
        #expect(unique.status == 2)
        #expect(unique.stderr.contains("unique is not a transformer option; use --unique"), "\(unique.stderr)")
    }

    @Test func checkValidatesAJobFileOffline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("check"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            masking_key: ${SNAPMASK_MASKING_KEY}
            databases:
              app:
                engine: postgres
                source: postgres://reader:${PROD_PASSWORD}@prod-db/app
                target: postgres://snapmask@staging-db/app
                rules: rules.yaml
            """.write(to: directory.appendingPathComponent("job.yaml"), atomically: true, encoding: .utf8)
        try """
            tables:
              public.users:
                columns:
                  id: keep
                  email: { transform: email, unique: true }
            """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let job = directory.appendingPathComponent("job.yaml").path
        let env: [String: String?] = ["SNAPMASK_MASKING_KEY": Self.key, "PROD_PASSWORD": "Pr0dS3cret"]
        let ok = try CommandRunner.run(["check", "--offline", "--config", job], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("ok: app (postgres)"))

        let missing = try CommandRunner.run(["check", "--offline", "--config", job], environment: ["SNAPMASK_MASKING_KEY": Self.key, "PROD_PASSWORD": nil])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("job.yaml:5:13") && missing.stderr.contains("PROD_PASSWORD"))

        try """
            tables:
              public.users:
                columns:
                  id: keep
                  email: { trasnform: email }
            """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let typo = try CommandRunner.run(["check", "--offline", "--config", job], environment: env)
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("rules.yaml:5:16") && typo.stderr.contains("did you mean 'transform'"), "\(typo.stderr)")
        #expect(!typo.stderr.contains("Pr0dS3cret") && !typo.stdout.contains("Pr0dS3cret"))

        // Without --offline the source is contacted: an unknown host fails the check (exit 1),
        // naming the source without its password.
        try """
            tables:
              public.users:
                columns: { id: keep }
            """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let unreachable = try CommandRunner.run(["check", "--config", job], environment: env)
        #expect(unreachable.status == 1)
        #expect(unreachable.stdout.contains("prod-db") && !unreachable.stdout.contains("Pr0dS3cret"))
    }

    /// `check` says when a URL off loopback travels without verified TLS.
    @Test func checkWarnsAboutURLsWithoutVerifiedTLS() throws {
        let job = try TestJob(databases: """
            docs:
              engine: documentdb
              source: mongodb://reader@docdb.cluster-ro-x.us-east-1.docdb.amazonaws.com:27017/messages
              target: mongodb://writer@docdb.cluster-y.us-east-1.docdb.amazonaws.com:27017/messages?tls=true&tlsCAFile=/ca.pem
              rules: docs.yaml
            app:
              engine: postgres
              source: postgres://reader@prod.cluster-ro-x.us-east-1.rds.amazonaws.com/app?sslmode=require
              target: postgres://writer@staging.cluster-y.us-east-1.rds.amazonaws.com/app
              rules: app.yaml
            """, files: ["docs.yaml": "collections:\n  m: { fields: { _id: keep } }\n",
                         "app.yaml": "tables:\n  t: { columns: { id: keep } }\n"])
        defer { job.remove() }
        let result = try CommandRunner.run(["check", "--config", job.path, "--offline"])
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        #expect(warnings.count == 2, "\(result.stdout)")
        #expect(warnings.contains { $0.hasPrefix("warning: docs: the source URL") && $0.contains("without TLS") })
        #expect(warnings.contains { $0.hasPrefix("warning: app: the source URL") && $0.contains("sslmode=require") })
    }
}
