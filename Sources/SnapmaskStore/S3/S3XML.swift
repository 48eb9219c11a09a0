import Foundation
import SnapmaskAWS

/// The `<Error>` document of a failed S3 request: only its Code and Message are ever shown
/// (S3 may add a StringToSign or a CanonicalRequest, which stay out of messages).
struct S3ErrorBody: Equatable {
    var code: String
    var message: String

    init?(_ data: Data) {
        guard let root = AWSXMLElement.parse(data), root.name == "Error" else { return nil }
        self.init(root)
    }

    init?(_ element: AWSXMLElement) {
        guard let code = element.value("Code"), !code.isEmpty else { return nil }
        self.code = code
        self.message = element.value("Message") ?? ""
    }
}

enum S3XMLText {
    /// Escapes text for an element's content. Returns nil for characters XML 1.0 cannot carry
    /// (most control characters), which no escaping can express.
    static func escape(_ text: String) -> String? {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out += "&#\(scalar.value);"
            case "\r": out += "&#13;"
            default:
                let v = scalar.value
                guard v >= 0x20, v != 0xFFFE, v != 0xFFFF else { return nil }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Keys of a listing made with `encoding-type=url`: percent-encoded, with `+` for a space.
    static func decodeURLEncoded(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
