import Foundation
import Snapmask
import SnapmaskDocumentDB

/// A MongoDB-wire server (mongoeco, as scripts/services runs it) started by a test on a port of
/// its own, so the test can kill it.
public final class WireServer: @unchecked Sendable {
    let process: Process
    public let url: ConnectionString

    /// A random port can be taken (the range overlaps the kernel's ephemeral ports, which other
    /// tests' connections use): the server then exits at once, and another port is tried.
    public static func start() throws -> WireServer {
        var failure: Error?
        for _ in 0..<5 {
            do { return try startOnce() } catch { failure = error }
        }
        throw failure!
    }

    private static func startOnce() throws -> WireServer {
        let repository = Repository.root
        let services = ProcessInfo.processInfo.environment["SNAPMASK_SERVICES_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repository.appendingPathComponent(".services")
        let python = services.appendingPathComponent("mongo/venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw DocumentDBError("no MongoDB-wire server venv at \(python.path); run scripts/services start mongo")
        }
        let port = Int.random(in: 40_000...49_999)
        let process = Process()
        process.executableURL = python
        process.arguments = ["-u", repository.appendingPathComponent("scripts/lib/mongo_wire_server.py").path, "--port", "\(port)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it prints "listening".
        let ready = OutcomeBox<Bool>()
        DispatchQueue.global().async {
            var seen = Data()
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { ready.set(.success(false)); return }
                seen.append(chunk)
                if String(decoding: seen, as: UTF8.self).contains("listening") { ready.set(.success(true)); return }
            }
        }
        guard case .success(true) = ready.wait() else {
            process.terminate()
            throw DocumentDBError("the second MongoDB-wire server did not start on port \(port)")
        }
        return WireServer(process: process,
                          url: try ConnectionString("mongodb://127.0.0.1:\(port)/?directConnection=true&serverSelectionTimeoutMS=2000"))
    }

    init(process: Process, url: ConnectionString) {
        self.process = process
        self.url = url
    }

    /// SIGKILL: the server dies as a crashed one does, connections reset.
    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
