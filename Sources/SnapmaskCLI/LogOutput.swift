import Foundation
import Logging
import Snapmask

/// Log lines on stderr: JSON lines when stderr is not a terminal (a CronJob's log collector),
/// short text lines on a terminal.
struct StderrLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    let json: Bool

    init(label: String, json: Bool = isatty(STDERR_FILENO) != 1) {
        self.label = label
        self.json = json
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let line: String
        if json {
            var fields: [(String, String)] = [("time", Self.timestamp()), ("level", level.rawValue), ("message", message.description)]
            fields += merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }
            line = "{" + fields.map { "\(Self.quoted($0.0)):\(Self.quoted($0.1))" }.joined(separator: ",") + "}"
        } else {
            let prefix = level >= .warning ? "\(level.rawValue): " : ""
            line = "\(prefix)\(merged["database"].map { "[\($0)] " } ?? "")\(message)"
        }
        let scrubbed = SecretScrubber.scrub(line)
        if json {
            FileHandle.standardError.write(Data((scrubbed + "\n").utf8))
        } else {
            TerminalProgress.shared.print(scrubbed)
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20: output += String(format: "\\u%04x", scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}

enum Logs {
    static let bootstrapped: Bool = {
        LoggingSystem.bootstrap { StderrLogHandler(label: $0) }
        return true
    }()

    static func logger() -> Logger {
        _ = bootstrapped
        return Logger(label: "snapmask")
    }
}
