import ArgumentParser
import Foundation
import Snapmask

/// Exit codes shared by every command.
enum ExitStatus: Int32 {
    case success = 0
    /// The job ran and found a problem: a check failed, a leak was found, a restore failed.
    case failed = 1
    /// The command could not start: bad arguments or configuration.
    case usage = 2
}

/// A failure the command already explained; only its exit status is left to give.
struct CommandFailed: Error {
    var status: ExitStatus
}

enum Failure {
    /// Prints an error for a DBA (what failed, where, what to do) and returns the exit code.
    static func report(_ error: Error) -> Int32 {
        switch error {
        case let failed as CommandFailed:
            return failed.status.rawValue
        case let error as ConfigError:
            printError("error: \(error)")
            return ExitStatus.usage.rawValue
        case let errors as ConfigErrors:
            let count = errors.errors.count
            printError("error: \(count == 1 ? "a configuration problem" : "\(count) configuration problems"):")
            for error in errors.errors { printError("  \(error)") }
            return ExitStatus.usage.rawValue
        case let code as ExitCode:
            return code.rawValue
        default:
            let code = RootCommand.exitCode(for: error)
            if code == .failure {
                // A runtime failure (a server, a stream, a value): the job failed.
                printError("error: \(error)")
                return ExitStatus.failed.rawValue
            }
            let message = RootCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                return 0
            }
            if !message.isEmpty { printError(message) }
            // ArgumentParser reports usage errors as EX_USAGE (64); the documented code is 2.
            return code.rawValue == 64 ? ExitStatus.usage.rawValue : code.rawValue == 0 ? 0 : ExitStatus.failed.rawValue
        }
    }
}

/// Every message leaves through here (or the log handler), scrubbed of configured secrets.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((SecretScrubber.scrub(text) + "\n").utf8))
}

enum Terminal {
    static var isInteractiveOutput: Bool { isatty(STDOUT_FILENO) == 1 }
}
