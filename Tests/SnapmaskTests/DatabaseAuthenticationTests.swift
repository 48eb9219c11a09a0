import Foundation
import Testing
@testable import Snapmask

/// `auth=iam` in a URL and `auth:` in the job file: what a URL with IAM authentication must and
/// must not hold, and that the parameter never reaches a driver.
@Suite struct DatabaseAuthenticationTests {
    @Test func theParameterChoosesIAMAndNeverReachesTheDriver() throws {
        let url = try ConnectionString("postgres://snapmask@db.cluster-x.us-east-1.rds.amazonaws.com:5432/app?sslmode=verify-full&auth=iam&sslrootcert=/ca.pem")
        #expect(url.authentication == .iam)
        #expect(url.query.map(\.key) == ["sslmode", "sslrootcert"])
        #expect(url.queryValue("auth") == nil)
        #expect(url.forDriver == "postgres://snapmask@db.cluster-x.us-east-1.rds.amazonaws.com:5432/app?sslmode=verify-full&sslrootcert=/ca.pem")
        // Shown to the DBA: the URL says how it logs in.
        #expect(url.description.contains("auth=iam"))

        let only = try ConnectionString("mysql://snapmask@db.cluster-x.eu-west-1.rds.amazonaws.com/app?auth=IAM")
        #expect(only.authentication == .iam)
        #expect(only.forDriver == "mysql://snapmask@db.cluster-x.eu-west-1.rds.amazonaws.com/app")

        let plain = try ConnectionString("postgres://reader:pw@db/app?auth=password")
        #expect(plain.authentication == .password)
        #expect(plain.forDriver == "postgres://reader:pw@db/app")
        #expect(try ConnectionString("postgres://reader:pw@db/app").authentication == .password)
    }

    @Test func whatAnIAMURLCannotHold() {
        let cases: [(String, String)] = [
            ("postgres://snapmask:secret-pw@db/app?auth=iam", "carries no password"),
            ("postgres://db.example.com/app?auth=iam", "needs the database user"),
            ("mongodb://snapmask@docdb.example.com/messages?auth=iam", "is for PostgreSQL and MySQL"),
            ("postgres://snapmask@db1,db2/app?auth=iam", "exactly one"),
            ("postgres://snapmask@db/app?auth=kerberos", "use auth=iam"),
        ]
        for (raw, expected) in cases {
            let error = configError { try ConnectionString(raw) }
            #expect(error?.message.contains(expected) == true, "\(raw): \(String(describing: error))")
            #expect(error?.message.contains("secret-pw") == false)
        }
        // An empty password (an unset `${VAR:-}`) is no password.
        #expect((try? ConnectionString("postgres://snapmask:@db/app?auth=iam"))?.authentication == .iam)
    }

    @Test func theJobFileSetsIAMForBothSidesOrPerSide() throws {
        let dir = try TempDir()
        try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
        func job(_ auth: String, source: String = "postgres://reader@prod.cluster-ro-x.us-east-1.rds.amazonaws.com/app",
                 target: String = "postgres://snapmask:${STAGING_PG_PASSWORD:-}@staging.cluster-x.us-east-1.rds.amazonaws.com/app?sslmode=require") throws -> DatabaseJob {
            let path = try dir.write("job.yaml", """
                masking_key: \(testKeyText)
                databases:
                  app:
                    engine: postgres
                    source: \(source)
                    target: \(target)
                    rules: rules.yaml
                    \(auth)
                """)
            return try JobFile.load(path: path, environment: [:]).databases[0]
        }
        let both = try job("auth: iam")
        #expect(both.source.authentication == .iam && both.target.authentication == .iam)
        #expect(both.target.forDriver.hasSuffix("/app?sslmode=require"))
        #expect(both.target.queryValue("sslmode") == "require")

        let targetOnly = try job("auth: { target: iam }")
        #expect(targetOnly.source.authentication == .password && targetOnly.target.authentication == .iam)

        let explicit = try job("auth: password", source: "postgres://reader:pw@prod/app")
        #expect(explicit.source.authentication == .password && explicit.source.raw == "postgres://reader:pw@prod/app")

        // The URL and the job file disagree: say so rather than pick one.
        let contradiction = configErrors {
            try job("auth: password", source: "postgres://reader@prod.cluster-ro-x.us-east-1.rds.amazonaws.com/app?auth=iam")
        }
        #expect(contradiction.contains { $0.message.contains("contradicts auth=iam") }, "\(contradiction)")
        // A password left in a URL that auth: iam applies to.
        let withPassword = configErrors { try job("auth: iam", source: "postgres://reader:literal-pw@prod/app") }
        #expect(withPassword.contains { $0.message.contains("carries no password") }, "\(withPassword)")
        #expect(!withPassword.contains { $0.message.contains("literal-pw") })
        let typo = configErrors { try job("auth: aim") }
        #expect(typo.contains { $0.message.contains("auth: must be iam") }, "\(typo)")
        let side = configErrors { try job("auth: { sources: iam }") }
        #expect(side.contains { $0.message.contains("did you mean 'source'") }, "\(side)")
    }
}
