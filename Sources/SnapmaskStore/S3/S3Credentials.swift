import Foundation
import Snapmask

/// AWS credentials for signing S3 requests. Never printed: `description`, `debugDescription`
/// and reflection (`dump`, `print`) show the access key id only, so an error or a log line
/// that interpolates a store or its credentials cannot leak the secret or the session token.
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public static let accessKeyVariable = "AWS_ACCESS_KEY_ID"
    public static let secretKeyVariable = "AWS_SECRET_ACCESS_KEY"
    public static let sessionTokenVariable = "AWS_SESSION_TOKEN"

    /// From the standard AWS variables: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and,
    /// for temporary credentials, `AWS_SESSION_TOKEN`. Missing ones are named in the error.
    public static func fromEnvironment(_ environment: [String: String], for location: String) throws -> S3Credentials {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        let accessKey = value(accessKeyVariable)
        let secretKey = value(secretKeyVariable)
        guard let accessKey, let secretKey else {
            let missing = [accessKey == nil ? accessKeyVariable : nil, secretKey == nil ? secretKeyVariable : nil].compactMap { $0 }
            throw ConfigError("no S3 credentials for \(location): \(missing.joined(separator: " and ")) "
                                + "\(missing.count == 1 ? "is" : "are") not set; export \(accessKeyVariable) and "
                                + "\(secretKeyVariable) (and \(sessionTokenVariable) for temporary credentials)")
        }
        return S3Credentials(accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: value(sessionTokenVariable))
    }
}

extension S3Credentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: ***\(sessionToken == nil ? "" : ", sessionToken: ***"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "***",
                                "sessionToken": sessionToken == nil ? "nil" : "***"])
    }
}
