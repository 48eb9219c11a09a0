import Foundation

/// Runs the built `snapmask` binary as a DBA would, capturing its output and exit status.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum CommandRunner {
    /// The `snapmask` executable next to the running test bundle.
    public static var executable: URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("snapmask")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("snapmask")
    }

    /// Runs `snapmask arguments...` with the given environment added to (or replacing) this
    /// process's; `nil` values remove a variable.
    public static func run(_ arguments: [String], environment: [String: String?] = [:], input: String? = nil,
                           directory: URL? = nil) throws -> CommandResult {
        try run(program: executable, arguments, environment: environment, input: input, directory: directory)
    }

    /// Runs any program (a script of the repository, a tool) the same way.
    public static func run(program: URL, _ arguments: [String], environment: [String: String?] = [:], input: String? = nil,
                           directory: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes before waiting, so a chatty command cannot fill a pipe and stall.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The repository the tests run from (this file is <repo>/Tests/SnapmaskTestSupport/CommandRunner.swift).
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func file(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}

/// `snapmask` running in the background, for tests that signal or kill it at a chosen moment
/// (when its log shows a phase).
public final class RunningCommand: @unchecked Sendable {
    private let process = Process()
    private let condition = NSCondition()
    private var errText = ""
    private var outText = ""
    private var finished = false

    public init(_ arguments: [String], environment: [String: String?] = [:]) throws {
        process.executableURL = CommandRunner.executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        for (pipe, isError) in [(out, false), (err, true)] {
            pipe.fileHandleForReading.readabilityHandler = { [self] handle in
                let data = handle.availableData
                condition.lock()
                if isError { errText += String(decoding: data, as: UTF8.self) } else { outText += String(decoding: data, as: UTF8.self) }
                condition.broadcast()
                condition.unlock()
                if data.isEmpty { handle.readabilityHandler = nil }
            }
        }
        process.terminationHandler = { [self] _ in
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Waits until standard error holds `text` (true), or the process ends or time runs out (false).
    public func waitForStderr(containing text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !errText.contains(text) {
            if finished || !condition.wait(until: deadline) { return errText.contains(text) }
        }
        return true
    }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the process to end and returns what it printed.
    public func wait(timeout: TimeInterval = 120) -> CommandResult {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        while !finished && condition.wait(until: deadline) {}
        condition.unlock()
        if !finished { signal(SIGKILL) }
        process.waitUntilExit()
        // The last output may still be on its way through the pipes.
        Thread.sleep(forTimeInterval: 0.2)
        condition.lock()
        defer { condition.unlock() }
        return CommandResult(status: process.terminationStatus, stdout: outText, stderr: errText)
    }
}
