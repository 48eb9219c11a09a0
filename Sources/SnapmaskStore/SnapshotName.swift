import Foundation
import Snapmask

/// A snapshot's name is one folder of the store, used in object keys and in messages: it is
/// checked on every command and every catalog call, whether it came from a command line, a job
/// or a store listing (anyone who can write to the store can make folders).
public enum SnapshotName {
    public static let maximumLength = 128

    /// Letters, digits, `-`, `_` and `.`; not starting with `.` and without `..`, no
    /// `/`, no control characters, at most 128 characters, and not `latest`.
    public static func validate(_ name: String) throws {
        guard isValid(name) else {
            throw ConfigError("'\(printable(name))' cannot name a snapshot: use up to \(maximumLength) letters, digits, '-', "
                                + "'_' and '.', not starting with '.', without '..' (and not 'latest')")
        }
    }

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name != "latest" && name.count <= maximumLength && !name.hasPrefix(".") && !name.contains("..")
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// The name for a message: control characters shown as `?`, and no more than the limit.
    static func printable(_ name: String) -> String {
        let shown = String(String.UnicodeScalarView(name.unicodeScalars.prefix(maximumLength + 1).map {
            $0.properties.generalCategory == .control ? "?" : $0
        }))
        return name.unicodeScalars.count > maximumLength + 1 ? shown + "..." : shown
    }
}

