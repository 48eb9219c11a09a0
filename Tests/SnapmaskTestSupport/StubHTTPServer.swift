import Foundation

/// A throwaway HTTP server on a random loopback port (Python's http.server), answering fixed
/// routes: a stand-in for the EKS Pod Identity agent, the EC2 metadata service or an STS error.
/// Each request is logged (method, path, headers), so a test can see what the client sent.
/// Stopped in `deinit` (or by `stop()`).
public final class StubHTTPServer: @unchecked Sendable {
    public struct Route: Encodable, Sendable {
        public var method: String
        public var path: String
        public var status: Int
        public var body: String
        public var headers: [String: String]
        /// Headers the request must carry with these values; otherwise the answer is 401.
        public var requireHeaders: [String: String]

        public init(_ method: String, _ path: String, status: Int = 200, body: String = "", headers: [String: String] = [:],
                    requireHeaders: [String: String] = [:]) {
            self.method = method
            self.path = path
            self.status = status
            self.body = body
            self.headers = headers
            self.requireHeaders = requireHeaders
        }
    }

    public struct Request: Decodable, Sendable {
        public var method: String
        public var path: String
        /// Lowercase names.
        public var headers: [String: String]
    }

    private let process = Process()
    private let directory: URL
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }

    public init(routes: [Route]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapmask-stub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let routesFile = directory.appendingPathComponent("routes.json")
        try JSONEncoder().encode(routes).write(to: routesFile)
        let script = directory.appendingPathComponent("server.py")
        try Data(Self.script.utf8).write(to: script)

        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, routesFile.path, directory.appendingPathComponent("requests.jsonl").path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line is the port it listens on.
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            kill(process.processIdentifier, SIGKILL)
            throw StubError(description: "the stub HTTP server did not start (python3 missing?)")
        }
        self.port = port
    }

    struct StubError: Error, CustomStringConvertible {
        var description: String
    }

    /// What the server received so far, in order.
    public var requests: [Request] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: the child may inherit a blocked SIGTERM from the test process's threads.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    static let script = #"""
    import json, signal, sys, threading
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    routes = json.load(open(sys.argv[1]))
    log_path = sys.argv[2]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with lock, open(log_path, "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
            status, body, headers = 404, "no route", {}
            for route in routes:
                if route["method"] == self.command and route["path"] == self.path:
                    wrong = [n for n, v in route["requireHeaders"].items() if self.headers.get(n) != v]
                    if wrong:
                        status, body, headers = 401, "missing or wrong header " + wrong[0], {}
                    else:
                        status, body, headers = route["status"], route["body"], route["headers"]
                    break
            data = body.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#
}
