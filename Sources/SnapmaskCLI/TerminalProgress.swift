import Foundation

/// The live per-table display on a terminal: one line per table being copied (rows, rows/s,
/// ETA from the source's row estimate), redrawn in place below the log lines.
final class TerminalProgress: @unchecked Sendable {
    static let shared = TerminalProgress()

    private struct Row {
        var table: String
        var rows: Int
        var estimate: Int
        var started: Date
    }

    // All state is guarded by `lock`.
    private let lock = NSLock()
    private var rows: [Row] = []
    private var drawnLines = 0
    private var lastDraw = Date.distantPast

    /// Prints a log line above the progress block.
    func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        var output = clearBlock()
        output += line + "\n"
        output += block()
        write(output)
    }

    func started(_ table: String, estimate: Int) {
        lock.lock()
        defer { lock.unlock() }
        rows.append(Row(table: table, rows: 0, estimate: estimate, started: Date()))
        redraw(force: true)
    }

    func progress(_ table: String, rows count: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard let index = rows.firstIndex(where: { $0.table == table }) else { return }
        rows[index].rows = count
        redraw(force: false)
    }

    func finished(_ table: String) {
        lock.lock()
        defer { lock.unlock() }
        let output = clearBlock()
        rows.removeAll { $0.table == table }
        write(output + block())
    }

    private func redraw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.25 else { return }
        lastDraw = now
        write(clearBlock() + block())
    }

    /// Moves up over the lines drawn last time and clears them.
    private func clearBlock() -> String {
        defer { drawnLines = 0 }
        return String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines) + (drawnLines > 0 ? "\r" : "")
    }

    private func block() -> String {
        let width = rows.map(\.table.count).max() ?? 0
        let lines = rows.map { row -> String in
            let seconds = max(Date().timeIntervalSince(row.started), 0.001)
            let rate = Double(row.rows) / seconds
            var line = "  \(row.table.padding(toLength: width, withPad: " ", startingAt: 0))  \(Self.grouped(row.rows))"
            if row.estimate > 0 { line += " / ~\(Self.grouped(row.estimate))" }
            line += " rows  \(Self.grouped(Int(rate))) rows/s"
            if row.estimate > row.rows, rate > 0 {
                let eta = Int(Double(row.estimate - row.rows) / rate)
                line += String(format: "  ETA %d:%02d", eta / 60, eta % 60)
            }
            return line
        }
        drawnLines = lines.count
        return lines.map { $0 + "\n" }.joined()
    }

    private func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var output = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { output += "," }
            output.append(character)
        }
        return output
    }
}
