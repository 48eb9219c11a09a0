import Foundation
import Testing
@testable import Snapmask

/// Passwords inside URLs never appear in a description or an error message.
@Suite struct SecretRedactionTests {
    static let secret = "Sup3rS3cret"

    @Test(arguments: [
        "postgres://reader:Sup3rS3cret@prod-db:5432/app",
        "postgresql://reader:Sup3rS3cret@prod-db/app?sslmode=require",
        "mysql://root:Sup3rS3cret@[::1]:3306/shop",
        "mongodb://app:Sup3rS3cret@m1:27017,m2:27017/messages?replicaSet=rs0",
        "postgres://reader@prod-db/app?password=Sup3rS3cret&sslmode=require",
        "postgres://reader:Sup3r%40S3cret@prod-db/app",
        "mongodb://app@m1/messages?tls=true&tlsCertificateKeyFilePassword=Sup3rS3cret",
        "postgres://reader@prod-db/app?sslpassword=Sup3rS3cret",
        "mongodb://m1/messages?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:Sup3rS3cret",
    ])
    func descriptionHidesThePassword(url: String) throws {
        let connection = try ConnectionString(url)
        #expect(!connection.description.contains("Sup3r"), "\(connection.description)")
        #expect(!"\(connection)".contains("Sup3r"))
        #expect(connection.description.contains("***"))
    }

    /// Generated passwords (`openssl rand -base64`) hold '/' and '+', and reach URLs through ${VAR}.
    @Test(arguments: ["ab/cd+ef==", "Sup3r?S3cret", "x/Sup3rS3cret"])
    func passwordWithURLDelimitersIsStillHidden(password: String) throws {
        let connection = try ConnectionString("postgres://reader:\(password)@prod-db/app")
        #expect(!connection.description.contains(password), "\(connection.description)")
    }

    /// A YAML error must not quote the file back: it may hold literal passwords and the masking key.
    @Test func yamlErrorsDoNotQuoteTheFile() throws {
        let dir = try TempDir()
        try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
        let text = """
            masking_key: literal-masking-key-0123456789
            databases:
              app:
                engine: postgres
                source: postgres://reader:Sup3rS3cret@prod-db/app
                target: postgres://writer@staging-db/app
                engine: postgres
                rules: rules.yaml
            """
        let path = try dir.write("job.yaml", text)
        let error = configError { try JobFile.load(path: path, environment: [:]) }
        #expect(error?.description.contains(Self.secret) == false, "\(String(describing: error))")
        #expect(error?.description.contains("literal-masking-key") == false, "\(String(describing: error))")
        #expect(error?.location?.file == path)
        #expect(error?.location?.line == 7, "the second 'engine:': \(String(describing: error))")
    }

    /// A URL where something else was expected is named, redacted, not quoted.
    @Test func aTypeErrorDoesNotQuoteAURLWithItsPassword() throws {
        let dir = try TempDir()
        let path = try dir.write("job.yaml", "masking_key: literal-masking-key-0123456789\n"
                                     + "databases: postgres://reader:Sup3rS3cret@prod-db/app\n")
        let error = configError { try JobFile.load(path: path, environment: [:]) }
        #expect(error?.description.contains(Self.secret) == false, "\(String(describing: error))")
        #expect(error?.description.contains("postgres://reader:***@prod-db/app") == true, "\(String(describing: error))")
    }

    @Test func decodedPasswordIsAvailableToDrivers() throws {
        let connection = try ConnectionString("postgres://reader:Sup3r%40S3cret@prod-db/app")
        #expect(connection.password == "Sup3r@S3cret")
        #expect(connection.user == "reader")
        #expect(connection.hosts == "prod-db")
        #expect(connection.database == "app")
    }

    @Test(arguments: [
        "postgres:reader:Sup3rS3cret@prod-db/app",          // "://" mistyped
        "postgres//reader:Sup3rS3cret@prod-db/app",
        "reader:Sup3rS3cret@prod-db/app",
    ])
    func malformedURLErrorHidesThePassword(url: String) {
        let error = configError { try ConnectionString(url, at: Snapmask.SourceLocation(file: "job.yaml", line: 4, column: 13)) }
        #expect(error?.location?.line == 4)
        #expect(error?.description.contains(Self.secret) == false, "\(String(describing: error))")
    }

    /// Every error of a job whose URLs carry passwords: none repeats them.
    @Test func jobErrorsNeverRepeatPasswords() throws {
        let dir = try TempDir()
        try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
        let cases = [
            // target equal to source
            ("postgres", "postgres://reader:${PW}@prod-db/app", "postgres://writer:${PW}@prod-db/app"),
            // engine / scheme mismatch
            ("mysql", "postgres://reader:${PW}@prod-db/app", "postgres://writer:${PW}@staging/app"),
            // malformed URL
            ("postgres", "postgres:/reader:${PW}@prod-db/app", "postgres://writer:${PW}@staging/app"),
        ]
        for (engine, source, target) in cases {
            let path = try dir.write("job.yaml", """
                masking_key: 0123456789abcdef0123
                databases:
                  app:
                    engine: \(engine)
                    source: \(source)
                    target: \(target)
                    rules: rules.yaml
                """)
            let errors = configErrors { try JobFile.load(path: path, environment: ["PW": Self.secret]) }
            #expect(!errors.isEmpty)
            for error in errors {
                #expect(!error.description.contains(Self.secret), "leaks the password: \(error)")
            }
            let all = ConfigErrors(errors)
            #expect(!all.description.contains(Self.secret))
        }
    }

    @Test func maskingKeyDescriptionIsRedacted() throws {
        let key = try MaskingKey("a-secret-masking-key-0123456789")
        #expect(key.description == "MaskingKey(redacted)")
        #expect(!"\(key)".contains("a-secret"))
    }

    /// A password holding URL delimiters reaches the driver percent-encoded, and any piece of it
    /// that a driver's message quotes anyway is scrubbed from what snapmask prints.
    @Test func passwordPiecesAreScrubbedFromMessages() throws {
        let url = try ConnectionString("postgres://reader:Zq8uT@kX2p/Lm9wV%Yb7@prod-db:5432/app")
        #expect(url.password == "Zq8uT@kX2p/Lm9wV%Yb7" && url.primaryHost.host == "prod-db" && url.database == "app")
        #expect(url.forDriver == "postgres://reader:Zq8uT%40kX2p%2FLm9wV%25Yb7@prod-db:5432/app")
        let libpqStyle = #"could not translate host name "kX2p" to address; database "Lm9wV%Yb7@prod-db:5432/app" does not exist"#
        let scrubbed = SecretScrubber.scrub(libpqStyle)
        for piece in ["Zq8uT", "kX2p", "Lm9wV"] { #expect(!scrubbed.contains(piece), "\(scrubbed)") }
        #expect(scrubbed.contains("could not translate host name"))
        let key = try MaskingKey("masking-key-for-scrubbing-test-42")
        _ = key
        #expect(SecretScrubber.scrub("key masking-key-for-scrubbing-test-42 leaked") == "key *** leaked")
    }
}
