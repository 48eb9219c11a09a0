import Crypto
import Foundation

enum SHA256Hex {
    static func of(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
