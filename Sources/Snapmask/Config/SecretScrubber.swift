import Foundation

/// Every secret the configuration holds (passwords in URLs, the masking key, the archive key),
/// so messages can be scrubbed of them before they leave the process: a driver's error may quote
/// parts of a password (libpq cuts a URL at an unencoded '@' or '/' and names the pieces as a
/// host or a database), and such a message reaches the log, the JSON log and the report.
public enum SecretScrubber {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var secrets: Set<String> = []
    /// Secrets scrubbed only whole (and percent-encoded), never by pieces: credentials that never
    /// travel inside a URL a driver could cut apart (AWS keys, tokens), whose pieces between
    /// delimiters would otherwise blank ordinary words.
    nonisolated(unsafe) private static var wholeSecrets: Set<String> = []

    /// Shorter pieces are too common in ordinary text to hide without hiding everything.
    static let minimumPiece = 4

    public static func register(_ secret: String) {
        guard secret.count >= minimumPiece else { return }
        lock.lock()
        secrets.insert(secret)
        lock.unlock()
    }

    /// Registers a secret that is hidden only as a whole (see `wholeSecrets`).
    public static func registerWhole(_ secret: String) {
        guard secret.count >= minimumPiece else { return }
        lock.lock()
        wholeSecrets.insert(secret)
        lock.unlock()
    }

    /// The text with every secret, every percent-encoded form of it, and every piece of it between
    /// URL delimiters replaced by `***`.
    public static func scrub(_ text: String) -> String {
        lock.lock()
        let known = secrets, whole = wholeSecrets
        lock.unlock()
        guard !known.isEmpty || !whole.isEmpty else { return text }
        var pieces = Set<String>()
        for secret in whole {
            pieces.insert(secret)
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { pieces.insert(encoded) }
        }
        for secret in known {
            pieces.insert(secret)
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { pieces.insert(encoded) }
            for piece in secret.split(whereSeparator: { "@/:?#%&=+ ".contains($0) }) where piece.count >= minimumPiece {
                pieces.insert(String(piece))
            }
        }
        var output = text
        // Longest first, so a secret is hidden whole before its pieces are looked for.
        for piece in pieces.sorted(by: { $0.count > $1.count }) where output.contains(piece) {
            output = output.replacingOccurrences(of: piece, with: "***")
        }
        return output
    }
}
