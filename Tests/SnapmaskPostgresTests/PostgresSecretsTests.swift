import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// pg_dump is a child process: whatever it gets on its command line or in its environment other
/// users can read (`ps`, /proc/PID/cmdline). It gets no password there, not even one given as a
/// URL parameter.
@Suite struct PostgresSecretsTests {
    @Test func pgDumpSeesNoPasswordOnItsCommandLineOrInItsEnvironment() throws {
        let scratch = try PostgresScratch("pgsecret")
        defer { scratch.drop() }
        let plain = try scratch.url("src", create: true, sql: "CREATE TABLE held (id int);")
        let url = try ConnectionString(plain.raw.replacingOccurrences(of: "postgres@", with: "postgres:S3cretPw42@")
                                       + "?sslmode=disable&sslpassword=Ss1Passphrase&application_name=x")
        // pg_dump waits for its lock on `held` while this session holds it: time to look at it.
        let holder = try scratch.connect("src")
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        let serverVersion = holder.serverVersion
        let outcome = OutcomeBox<[PostgresSchemaDump.Section: String]>()
        let thread = Thread {
            var dump = PostgresSchemaDump(source: url)
            dump.lockTimeoutMilliseconds = 20_000
            outcome.set(Result { try dump.sections(snapshot: nil, serverVersion: serverVersion) })
        }
        thread.start()
        var seen: (cmdline: String, environ: String, serviceFile: String?)?
        let deadline = Date().addingTimeInterval(15)
        while seen == nil && Date() < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
                guard let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
                let cmdline = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                guard cmdline.contains("pg_dump") && cmdline.contains("--schema-only") else { continue }
                let environ = String(decoding: (FileManager.default.contents(atPath: "/proc/\(entry)/environ") ?? Data())
                                        .map { $0 == 0 ? 10 : $0 }, as: UTF8.self)
                let file = environ.split(separator: "\n").first { $0.hasPrefix("PGSERVICEFILE=") }.map { String($0.dropFirst(14)) }
                // Other tests run pg_dump at the same time: only the one reading this test's database counts.
                let settings = file.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) }
                guard settings?.contains("dbname=\(scratch.prefix)_src\n") == true else { continue }
                seen = (cmdline, environ, file)
            }
            if seen == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        try holder.execute("ROLLBACK")
        let sections = try outcome.wait().get()
        #expect(sections[.preData]?.contains("CREATE TABLE public.held") == true)

        let found = try #require(seen, "pg_dump was never seen running")
        for secret in ["S3cretPw42", "Ss1Passphrase"] {
            #expect(!found.cmdline.contains(secret), "\(found.cmdline)")
            #expect(!found.environ.contains(secret))
        }
        #expect(found.cmdline.contains("--dbname=service=snapmask"), "\(found.cmdline)")
        let serviceFile = try #require(found.serviceFile)
        #expect(!FileManager.default.fileExists(atPath: serviceFile), "the connection file is removed after pg_dump")
    }

    @Test func theServiceFileHoldsEveryConnectionSettingAndIsPrivate() throws {
        let url = try ConnectionString("postgres://reader:p%40ss=w@db1:5433,[::1]:5434/app?sslmode=verify-full&sslpassword=k")
        let text = try PostgresServiceFile.contents(for: url)
        #expect(text == "[snapmask]\nhost=db1,::1\nport=5433,5434\ndbname=app\nuser=reader\npassword=p@ss=w\nsslmode=verify-full\nsslpassword=k\n")
        let file = try PostgresServiceFile(for: url)
        defer { file.remove() }
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: file.directory.path)
        #expect((folder[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }
}
