import Crypto
import Foundation
import SnapmaskAWS
import Testing

/// Signature Version 4 against the examples of the AWS documentation ("Signature Calculations
/// for the Authorization Header: Transferring Payload in a Single Chunk", Amazon S3 API
/// reference). The expected values were computed outside this code base, with Python's hmac
/// and hashlib from the documented canonical requests, and agree with botocore's S3SigV4Auth
/// and with the signatures printed in the documentation.
@Suite struct SigV4Tests {
    static let signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    /// 2013-05-24T00:00:00Z
    static let date = Date(timeIntervalSince1970: 1_369_353_600)

    @Test func getObjectExample() {
        var request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                          headers: ["Range": "bytes=0-9"], payloadHash: SigV4.emptyPayloadHash)
        let signature = Self.signer.sign(&request, date: Self.date)
        #expect(signature.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(request.headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                    + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(request.headers["x-amz-date"] == "20130524T000000Z")
        #expect(request.headers["x-amz-content-sha256"] == SigV4.emptyPayloadHash)
    }

    @Test func putObjectExampleEncodesTheKey() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let path = SigV4.encodePath("/test$file.text")
        #expect(path == "/test%24file.text")
        var request = SigV4Signer.Request(method: "PUT", host: "examplebucket.s3.amazonaws.com", path: path,
                                          headers: ["Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"],
                                          payloadHash: SigV4.sha256Hex(body))
        let signature = Self.signer.sign(&request, date: Self.date)
        #expect(SigV4.sha256Hex(Data(signature.canonicalRequest.utf8)) == "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
        #expect(signature.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signature.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func listObjectsExampleSortsAndEncodesTheQuery() {
        // Given out of order: the canonical query is sorted by name.
        var request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
                                          query: [("prefix", "J"), ("max-keys", "2")], payloadHash: SigV4.emptyPayloadHash)
        let signature = Self.signer.sign(&request, date: Self.date)
        #expect(signature.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(SigV4.sha256Hex(Data(signature.canonicalRequest.utf8)) == "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7")
        #expect(signature.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func signingKeyDerivation() {
        let key = SigV4.signingKey(secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", day: "20130524", region: "us-east-1", service: "s3")
        #expect(key.withUnsafeBytes { SigV4.hex($0) } == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
    }

    @Test func uriEncoding() {
        #expect(SigV4.uriEncode("AZaz09-._~", keepSlash: false) == "AZaz09-._~")
        #expect(SigV4.encodePath("/dir with space/naïve+a=b&c/*") == "/dir%20with%20space/na%C3%AFve%2Ba%3Db%26c/%2A")
        #expect(SigV4.uriEncode("a/b c", keepSlash: false) == "a%2Fb%20c")
        #expect(SigV4.uriEncode("日", keepSlash: false) == "%E6%97%A5")
        #expect(SigV4.canonicalQuery([("uploadId", "x/y+z"), ("partNumber", "10"), ("uploads", "")])
                    == "partNumber=10&uploadId=x%2Fy%2Bz&uploads=")
        // Byte order, not alphabetical order ignoring case.
        #expect(SigV4.canonicalQuery([("b", "1"), ("B", "2"), ("a", "2"), ("a", "1")]) == "B=2&a=1&a=2&b=1")
    }

    @Test func sessionTokenIsSentAndSigned() {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                                            sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN"), region: "us-east-1")
        var request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                          payloadHash: SigV4.emptyPayloadHash)
        let signature = signer.sign(&request, date: Self.date)
        #expect(request.headers["x-amz-security-token"] == "FQoGZXIvYXdzEXAMPLETOKEN")
        #expect(signature.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        #expect(signature.canonicalRequest.contains("x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n"))
        #expect(!(request.headers["Authorization"] ?? "").contains("wJalr"))
    }

    @Test func timestampIsUTC() {
        let (timestamp, day) = SigV4.timestamp(Date(timeIntervalSince1970: 1_795_744_800.9))
        #expect(timestamp == "20261127T020000Z")
        #expect(day == "20261127")
    }

    /// The presigned URL example of the S3 documentation ("Authenticating Requests: Using Query
    /// Parameters"): GET /test.txt, valid 86400 s, UNSIGNED-PAYLOAD.
    @Test func presignedURLExample() {
        let request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                                          payloadHash: SigV4.unsignedPayload)
        let presigned = Self.signer.presign(request, date: Self.date, expires: 86400)
        #expect(presigned.signature.canonicalRequest == """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        #expect(presigned.signature.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(presigned.queryString == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                    + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                    + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func presignedExpiryIsBoundedAndTheTokenIsSigned() {
        let request = SigV4Signer.Request(method: "GET", host: "h", path: "/", payloadHash: SigV4.emptyPayloadHash)
        #expect(Self.signer.presign(request, date: Self.date, expires: 10_000_000).query.contains { $0.name == "X-Amz-Expires" && $0.value == "604800" })
        let withToken = SigV4Signer(credentials: AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret",
                                                                sessionToken: "to/ken+="), region: "eu-west-1", service: "rds-db")
        let presigned = withToken.presign(request, date: Self.date, expires: 900)
        #expect(presigned.signature.canonicalRequest.contains("X-Amz-Security-Token=to%2Fken%2B%3D"))
        #expect(presigned.queryString.hasSuffix("&X-Amz-Security-Token=to%2Fken%2B%3D&X-Amz-Signature=\(presigned.signature.signature)"))
    }
}
