import Foundation
import Snapmask
import SnapmaskAWS
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One S3 request as the store describes it, sent with retries, and the error answer it can get.
extension S3Store {
    struct Call {
        var operation: String
        var method: String
        /// The full key (with the prefix), or nil for a request on the bucket.
        var key: String?
        var query: [(name: String, value: String)] = []
        var body = Data()
        var contentType: String?
        var contentMD5 = false
        /// An HTTP Range (`bytes=0-N`), for reads of bounded size.
        var range: String? = nil
        var idempotent: Bool
        /// Statuses that are answers rather than failures.
        var accept: Set<Int> = [200, 204, 206]
        /// What the error names for a bucket-level request (a prefix, some keys).
        var describedKey: String?
        /// The whole name of what the request is about, when it is not one object or prefix.
        var subject: String?

        func subject(in store: S3Store) -> String {
            subject ?? store.objectName(key ?? describedKey)
        }
    }

    /// Sends a call, retrying what can be retried, and returns an accepted answer; throws
    /// `S3Failure` for an S3 error answer and `StoreError` when no answer came.
    func send(_ call: Call, checkLength: Bool = false) throws -> AWSHTTPResponse {
        let what = "S3 \(call.operation) of \(call.subject(in: self))"
        var attempt = 0
        var delay = 0.2
        while true {
            attempt += 1
            let request = try makeRequest(call)
            let outcome: Result<AWSHTTPResponse, Error>
            do {
                outcome = .success(try transport.send(request))
            } catch {
                outcome = .failure(error)
            }
            var failure: Error
            var retryable: Bool
            switch outcome {
            case .success(let response) where call.accept.contains(response.status):
                if checkLength, response.header("content-encoding") == nil,
                   let expected = response.header("content-length").flatMap({ Int($0) }), expected != response.body.count {
                    failure = StoreError(.failed, "\(what) failed: got \(response.body.count) of \(expected) bytes")
                    retryable = call.idempotent
                } else {
                    return response
                }
            case .success(let response):
                let error = S3ErrorBody(response.body)
                failure = S3Failure(operation: call.operation, object: call.subject(in: self),
                                    status: response.status, code: error?.code, message: error.map { redact($0.message) },
                                    credentialsSource: credentialsProvider.source)
                retryable = response.status == 503
                    || (call.idempotent && ([500, 502, 504].contains(response.status) || error?.code == "RequestTimeout"))
            case .failure(let error as AWSTransportError):
                failure = StoreError(.failed, "\(what) failed: \(error.description) (\(scheme)://\(host))")
                retryable = call.idempotent && error.retryable
            case .failure(let error):
                failure = StoreError(.failed, "\(what) failed: \(error)")
                retryable = false
            }
            guard retryable, attempt < maxAttempts else {
                if attempt > 1, let store = failure as? StoreError {
                    throw StoreError(store.kind, store.message + " after \(attempt) attempts")
                }
                if attempt > 1, var s3 = failure as? S3Failure {
                    s3.attempts = attempt
                    throw s3
                }
                throw failure
            }
            Thread.sleep(forTimeInterval: delay * Double.random(in: 0.75...1.25))
            delay = min(delay * 2, 5)
        }
    }
}


/// An S3 error answer: what was done to which object, the HTTP status, S3's Code and Message.
struct S3Failure: Error, CustomStringConvertible {
    var operation: String
    var object: String
    var status: Int
    var code: String?
    var message: String?
    /// Where the credentials came from, for the hint of an authentication failure.
    var credentialsSource: String?
    var attempts = 1

    var description: String {
        var text = "S3 \(operation) of \(object) failed: HTTP \(status)"
        if let code { text += " \(code)" }
        if let message, !message.isEmpty { text += ": \(message)" }
        if let hint { text += " (\(hint))" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    private var hint: String? {
        switch code {
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
            return "check the credentials from \(credentialsSource ?? "the environment")"
        case "AccessDenied":
            return "the credentials from \(credentialsSource ?? "the environment") may not read or write this bucket: "
                + "see the IAM policy of the role (README, Running on AWS)"
        case "NoSuchBucket":
            return "the bucket does not exist"
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            return "the bucket may be in another region: set AWS_REGION"
        default:
            return nil
        }
    }
}

extension S3Failure {
    var storeError: StoreError { StoreError(.failed, description) }
}
