import Crypto
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), after
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html:
/// canonical request → string to sign → HMAC with a key derived from the secret, the day,
/// the region and the service. Two modes: `sign` puts the signature in the Authorization
/// header (S3, STS, the RDS API), `presign` in the query string (RDS IAM auth tokens, presigned
/// URLs). A signer is a cheap value: make one per request with the credentials current then.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What is signed of an HTTP request.
    public struct Request: Sendable {
        public var method: String
        /// The Host header as sent: `host` or `host:port` for a port that is not the scheme's default.
        public var host: String
        /// The path exactly as sent, already URI-encoded (see `SigV4.encodePath`).
        public var path: String
        /// Query parameters, not encoded; an empty value for a name without one (`?uploads`).
        public var query: [(name: String, value: String)]
        /// Headers to send and sign, by name (any case). The signer adds `x-amz-date`,
        /// `x-amz-content-sha256` (when missing) and `x-amz-security-token` (with a session token).
        public var headers: [String: String]
        /// Lowercase hex SHA-256 of the body.
        public var payloadHash: String

        public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [String: String] = [:], payloadHash: String) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The intermediate values, for tests; only `authorization` is sent.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
        public var signature: String
        public var authorization: String
    }

    /// Adds the date, payload hash, session token and Authorization headers to the request.
    @discardableResult
    public func sign(_ request: inout Request, date: Date) -> Signature {
        let (timestamp, day) = SigV4.timestamp(date)
        request.headers = request.headers.filter { $0.key.lowercased() != "authorization" }
        setHeader(&request.headers, "x-amz-date", timestamp)
        if !request.headers.keys.contains(where: { $0.lowercased() == "x-amz-content-sha256" }) {
            setHeader(&request.headers, "x-amz-content-sha256", request.payloadHash)
        }
        if let token = credentials.sessionToken {
            setHeader(&request.headers, "x-amz-security-token", token)
        }
        let signature = compute(request, timestamp: timestamp, day: day)
        request.headers["Authorization"] = signature.authorization
        return signature
    }

    /// The signature of a request whose `x-amz-date` and other headers are already set.
    public func compute(_ request: Request, timestamp: String, day: String) -> Signature {
        // Canonical headers: lowercase names, trimmed values with inner runs of spaces
        // folded, sorted by name; Host is always signed.
        var canonical: [String: String] = ["host": request.host]
        for (name, value) in request.headers where name.lowercased() != "authorization" {
            canonical[name.lowercased()] = SigV4.normalizeHeaderValue(value)
        }
        let names = canonical.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            SigV4.canonicalQuery(request.query),
            names.map { "\($0):\(canonical[$0]!)\n" }.joined(),
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope, SigV4.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let key = SigV4.signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = SigV4.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
                         signature: signature, authorization: authorization)
    }

    /// A presigned request: the signature travels in the query string, so whoever holds the
    /// query can make the request (or, for an RDS auth token, log in) until it expires.
    public struct Presigned: Sendable {
        /// The request's own parameters, then the signing parameters, then `X-Amz-Signature`,
        /// in the order botocore writes them (servers accept any order).
        public var query: [(name: String, value: String)]
        /// `query` encoded (RFC 3986, as SigV4 encodes) and joined with `&`.
        public var queryString: String
        public var signature: Signature
    }

    /// The longest validity SigV4 allows a presigned request (7 days).
    public static let maximumPresignedLifetime = 604_800

    /// Signs in the query string (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
    /// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` with a session token, and
    /// `X-Amz-Signature`), valid `expires` seconds from `date`. The request's headers (Host always)
    /// are signed and must be sent as given; the payload hash is the caller's (the SHA-256 of an
    /// empty body for an RDS token, `UNSIGNED-PAYLOAD` for an S3 presigned URL).
    public func presign(_ request: Request, date: Date, expires: Int) -> Presigned {
        let (timestamp, day) = SigV4.timestamp(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let signedHeaders = Set(["host"] + request.headers.keys.map { $0.lowercased() }).subtracting(["authorization"])
            .sorted().joined(separator: ";")
        var signable = request
        signable.query.append(contentsOf: [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(min(max(1, expires), Self.maximumPresignedLifetime))),
            ("X-Amz-SignedHeaders", signedHeaders),
        ])
        // The token is part of what is signed, as in botocore's SigV4QueryAuth.
        if let token = credentials.sessionToken { signable.query.append(("X-Amz-Security-Token", token)) }
        let signature = compute(signable, timestamp: timestamp, day: day)
        let query = signable.query + [("X-Amz-Signature", signature.signature)]
        let queryString = query.map { SigV4.uriEncode($0.name, keepSlash: false) + "=" + SigV4.uriEncode($0.value, keepSlash: false) }
            .joined(separator: "&")
        return Presigned(query: query, queryString: queryString, signature: signature)
    }

    private func setHeader(_ headers: inout [String: String], _ name: String, _ value: String) {
        for key in headers.keys where key.lowercased() == name { headers.removeValue(forKey: key) }
        headers[name] = value
    }
}

/// The encoding and hashing rules of Signature Version 4.
public enum SigV4 {
    /// SHA-256 of an empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload "hash" of an S3 presigned URL, whose body the signer cannot know.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// RFC 3986 encoding as S3 wants it: every byte of the UTF-8 form except the unreserved
    /// characters A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase hex); `/` too unless `keepSlash`.
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out.append("%")
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// A path for the request line and the canonical request (S3 encodes it once, keeping `/`).
    public static func encodePath(_ path: String) -> String { uriEncode(path, keepSlash: true) }

    /// Names and values encoded (including `/`), sorted by encoded name then value, joined with `&`.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        // The encoded text is ASCII, so String order is byte order, as SigV4 wants.
        let encoded: [(name: String, value: String)] = items.map { item in
            (name: uriEncode(item.name, keepSlash: false), value: uriEncode(item.value, keepSlash: false))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { item in item.name + "=" + item.value }.joined(separator: "&")
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    public static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC.
    public static func timestamp(_ date: Date) -> (timestamp: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let day = pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
        return (day + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z", day)
    }

    static func normalizeHeaderValue(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces)
            .split(separator: " ", omittingEmptySubsequences: true)
            .joined(separator: " ")
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for byte in bytes {
            out.append(lowerHexDigits[Int(byte >> 4)])
            out.append(lowerHexDigits[Int(byte & 0x0F)])
        }
        return out
    }

    public static func sha256Hex(_ data: some DataProtocol) -> String { hex(SHA256.hash(data: data)) }

    private static let hexDigits: [Character] = Array("0123456789ABCDEF")
    private static let lowerHexDigits: [Character] = Array("0123456789abcdef")
}
