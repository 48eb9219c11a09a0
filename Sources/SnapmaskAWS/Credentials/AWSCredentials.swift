import Foundation
import Snapmask

/// AWS credentials for signing requests. Never printed: `description`, `debugDescription`
/// and reflection (`dump`, `print`) show the access key id only, so an error or a log line
/// that interpolates a store or its credentials cannot leak the secret or the session token.
/// The secret and the session token are registered with `SecretScrubber` as soon as they exist,
/// so a message that quotes them by accident (a server echoing a request) is scrubbed too
/// (whole: real ones are long random text; shorter values are test stand-ins, and hiding those
/// would blank ordinary words in every message).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        for secret in [secretAccessKey, sessionToken ?? ""] where secret.count >= Self.minimumScrubbedLength {
            SecretScrubber.registerWhole(secret)
        }
    }

    /// AWS secret keys are 40 characters and session tokens hundreds.
    static let minimumScrubbedLength = 16

    public static let accessKeyVariable = "AWS_ACCESS_KEY_ID"
    public static let secretKeyVariable = "AWS_SECRET_ACCESS_KEY"
    public static let sessionTokenVariable = "AWS_SESSION_TOKEN"
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: ***\(sessionToken == nil ? "" : ", sessionToken: ***"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "***",
                                "sessionToken": sessionToken == nil ? "nil" : "***",
                                "expiration": expiration.map { "\($0)" } ?? "nil"])
    }
}
