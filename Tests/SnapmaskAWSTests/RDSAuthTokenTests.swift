import Foundation
import Snapmask
import Testing
@testable import SnapmaskAWS

/// RDS IAM auth tokens against pinned vectors. The expected tokens were made outside this code
/// base with botocore 1.44 (`rds.generate_db_auth_token`, its clock fixed at 2026-11-27T02:00:00Z)
/// from AWS's published example keys, and the first one again by hand with Python's hmac and
/// hashlib from the canonical request below; both agree.
@Suite struct RDSAuthTokenTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 2026-11-27T02:00:00Z
    static let date = Date(timeIntervalSince1970: 1_795_744_800)

    @Test func postgresTokenMatchesBotocore() {
        let token = RDSAuthToken.generate(host: "prod-pg.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com", port: 5432,
                                          user: "snapmask_reader", region: "us-east-1", credentials: Self.credentials, date: Self.date)
        #expect(token == "prod-pg.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=snapmask_reader"
                    + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261127%2Fus-east-1%2Frds-db%2Faws4_request"
                    + "&X-Amz-Date=20261127T020000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
                    + "&X-Amz-Signature=b7ed43b6df6d1cbfe62ed6db23273ef82b70d47dcf9c91959b85523f32bc1da6")
    }

    @Test func canonicalRequestSignsHostWithPortAndAnEmptyPayload() {
        let request = SigV4Signer.Request(method: "GET", host: "prod-pg.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com:5432",
                                          path: "/", query: [("Action", "connect"), ("DBUser", "snapmask_reader")],
                                          payloadHash: SigV4.emptyPayloadHash)
        let presigned = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "rds-db")
            .presign(request, date: Self.date, expires: 900)
        #expect(presigned.signature.canonicalRequest == """
            GET
            /
            Action=connect&DBUser=snapmask_reader&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261127%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20261127T020000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host
            host:prod-pg.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com:5432

            host
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(presigned.signature.stringToSign == """
            AWS4-HMAC-SHA256
            20261127T020000Z
            20261127/us-east-1/rds-db/aws4_request
            21d754a735eacec787767f369ec36efa174336a098563966a3d8a949fb0c51ea
            """)
    }

    @Test func mysqlTokenWithASessionTokenMatchesBotocore() {
        let temporary = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                       sessionToken: "FwoGZXIvYXdzEXAMPLE//token+with/slashes==")
        let token = RDSAuthToken.generate(host: "staging-mysql.cluster-c9akciq32.eu-west-1.rds.amazonaws.com", port: 3306,
                                          user: "snapmask", region: "eu-west-1", credentials: temporary, date: Self.date)
        #expect(token == "staging-mysql.cluster-c9akciq32.eu-west-1.rds.amazonaws.com:3306/?Action=connect&DBUser=snapmask"
                    + "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261127%2Feu-west-1%2Frds-db%2Faws4_request"
                    + "&X-Amz-Date=20261127T020000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
                    + "&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2F%2Ftoken%2Bwith%2Fslashes%3D%3D"
                    + "&X-Amz-Signature=daa262fa202ac2c82353f4605a591acca1547deaa3f060d3d74457595014bc40")
    }

    @Test func aUserNameIsEncodedAsSigV4Encodes() {
        let token = RDSAuthToken.generate(host: "db.internal.example", port: 5432, user: "user name", region: "us-east-1",
                                          credentials: Self.credentials, date: Self.date)
        #expect(token.hasPrefix("db.internal.example:5432/?Action=connect&DBUser=user%20name&"))
        #expect(token.hasSuffix("&X-Amz-Signature=c53357ceaf606ed8c51860b2ba5ed45bc76b9e49c6523f8f54330d13f090f95e"))
    }

    @Test func theSignatureIsScrubbedButTheHostStaysReadable() {
        let token = RDSAuthToken.generate(host: "scrub-test.cluster-x.us-east-1.rds.amazonaws.com", port: 5432, user: "scrub_user",
                                          region: "us-east-1", credentials: Self.credentials, date: Date())
        let signature = String(token.split(separator: "=").last!)
        let message = SecretScrubber.scrub("login failed for scrub_user at scrub-test.cluster-x.us-east-1.rds.amazonaws.com with \(token)")
        #expect(!message.contains(signature))
        #expect(message.contains("login failed for scrub_user at scrub-test.cluster-x.us-east-1.rds.amazonaws.com"))
    }

    @Test func regionComesFromAnRDSHostName() {
        #expect(RDSAuthToken.region(ofHost: "prod.cluster-ro-abc.eu-west-1.rds.amazonaws.com") == "eu-west-1")
        #expect(RDSAuthToken.region(ofHost: "db-1.abc.us-east-2.rds.amazonaws.com") == "us-east-2")
        #expect(RDSAuthToken.region(ofHost: "proxy.proxy-abc.ap-south-1.rds.amazonaws.com") == "ap-south-1")
        #expect(RDSAuthToken.region(ofHost: "db.abc.cn-north-1.rds.amazonaws.com.cn") == "cn-north-1")
        #expect(RDSAuthToken.region(ofHost: "PROD.CLUSTER-X.US-WEST-2.RDS.AMAZONAWS.COM") == "us-west-2")
        for other in ["db.internal.example", "127.0.0.1", "rds.amazonaws.com", "x.rds.example.com", "amazonaws.com"] {
            #expect(RDSAuthToken.region(ofHost: other) == nil, "\(other)")
        }
    }

    @Test func issuerTakesTheHostsRegionThenAWSRegion() throws {
        let fixed = StaticCredentialsProvider(Self.credentials)
        let issuer = RDSTokenIssuer(environment: ["AWS_REGION": "us-east-1"], credentials: fixed)
        // The host's region wins: a token signed for another region would be refused.
        let remote = try issuer.token(host: "db.cluster-x.eu-central-1.rds.amazonaws.com", port: 5432, user: "u")
        #expect(remote.contains("%2Feu-central-1%2Frds-db%2Faws4_request"))
        let aliased = try issuer.token(host: "pg.internal.example", port: 6432, user: "u")
        #expect(aliased.hasPrefix("pg.internal.example:6432/?Action=connect&DBUser=u&"))
        #expect(aliased.contains("%2Fus-east-1%2Frds-db%2Faws4_request"))
        #expect(aliased.contains("&X-Amz-Expires=900&"))

        let noRegion = RDSTokenIssuer(environment: [:], credentials: fixed)
        #expect { try noRegion.token(host: "pg.internal.example", port: 5432, user: "u") } throws: { error in
            (error as? ConfigError)?.message.contains("set AWS_REGION") == true
        }
    }
}
