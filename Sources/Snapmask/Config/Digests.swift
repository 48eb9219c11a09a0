import Crypto
import Foundation

/// Lower-case hex SHA-256, as reports and manifests write digests.
public enum SHA256Hex {
    public static func of(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

/// The digest that tells which rules a run or a snapshot used: the rule file and the override
/// file, each with its file name.
public enum RulesDigest {
    public static func of(rulesFile: String, overridesFile: String?) throws -> String {
        var material = Data()
        for path in [rulesFile, overridesFile].compactMap({ $0 }) {
            material.append(Data(path.split(separator: "/").last.map(String.init)?.utf8 ?? "".utf8))
            material.append(0)
            material.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            material.append(0)
        }
        return SHA256Hex.of(material)
    }
}
