import Foundation
import Snapmask

/// Rows/s of the masking step alone (decode masked fields → transform → encode), on the rows of
/// the PostgreSQL benchmark (Benchmarks/postgres): the CPU a restore spends besides the databases.
///
///     swift run -c release RowMaskingBenchmark [rows]

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let key = try MaskingKey("benchmark-masking-key-0123456789")
let rulesPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../postgres/rules.yaml").path
let rules = try CompiledRules.compile(try RuleSet.load(path: rulesPath, displayPath: rulesPath, environment: [:]), key: key)

func column(_ name: String, _ category: ValueCategory = .text) -> ColumnShape {
    ColumnShape(name: name, typeName: category.rawValue, category: category)
}

func padded(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

let users = TableShape(name: "public.users", columns: [
    column("id", .number), column("email"), column("first_name"), column("last_name"), column("phone"), column("ssn"),
    column("date_of_birth", .date), column("profile", .json), column("created_at", .timestamp)])
let orders = TableShape(name: "public.orders", columns: [
    column("id", .number), column("user_id", .number), column("shipping_address"), column("card_number"),
    column("total", .number), column("status"), column("created_at", .timestamp)])

/// Rows as PostgreSQL's COPY text sends them for Benchmarks/postgres/generate.sql.
func userRow(_ g: Int) -> String {
    let email = "user\(g)@corp\(g % 97).example.com"
    let profile = #"{"contact": {"email": "\#(email)", "phones": ["555-\#(padded(g % 10000, 4))", "556-\#(padded(g % 9999, 4))"]}, "preferences": {"theme": "dark", "locale": "en-US", "newsletter": false}}"#
    return "\(g)\t\(email)\tFirst\(g % 997)\tLast\(g % 1999)\t+1 (\(200 + g % 800)) 555-\(padded(g % 10000, 4))\t"
        + "\(padded(100 + g % 800, 3))-\(padded(1 + g % 98, 2))-\(padded(1 + g % 9998, 4))\t"
        + "19\(50 + g % 50)-0\(1 + g % 9)-1\(g % 10)\t\(profile)\t2020-01-01 00:00:00+00\n"
}

func orderRow(_ g: Int) -> String {
    "\(g)\t\(1 + g % 1000)\t\(g % 9999) Main Street, Springfield, IL \(padded(g % 100000, 5))\t"
        + "4111 11\(padded(g % 100, 2)) \(padded(g / 100 % 10000, 4)) \(padded(g % 10000, 4))\t\(g % 1000).50\tpaid\t"
        + "2021-01-01 00:00:00+00\n"
}

func batches(_ rows: Int, _ row: (Int) -> String) -> [RowBatch] {
    var result: [RowBatch] = []
    var data: [UInt8] = []
    var inBatch = 0
    for g in 1...rows {
        data.append(contentsOf: row(g).utf8)
        inBatch += 1
        if data.count >= 1 << 20 || g == rows {
            result.append(RowBatch(data: data, rowCount: inBatch, firstRow: g - inBatch))
            data = []
            inBatch = 0
        }
    }
    return result
}

print("table          rows/s       ns/row   MB/s (input)")
for (table, make) in [(users, userRow), (orders, orderRow)] as [(TableShape, (Int) -> String)] {
    let plan = TablePlan(table: table, rule: rules.table(named: table.name))
    let masker = DelimitedRowMasker(plan: plan, dialect: .postgres)
    let input = batches(count, make)
    let bytes = input.reduce(0) { $0 + $1.data.count }
    var checksum = 0
    let elapsed = try ContinuousClock().measure {
        for batch in input { checksum &+= try masker.mask(batch).data.count }
    }
    // The masked bytes themselves, untimed: a change that alters the output shows here.
    var outputs = Fingerprint.fnv1a64("")
    for batch in input.prefix(8) {
        outputs = (outputs ^ Fingerprint.fnv1a64(String(decoding: try masker.mask(batch).data, as: UTF8.self))) &* 0x100_0000_01b3
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(table.name.padding(toLength: 13, withPad: " ", startingAt: 0),
          String(format: "%10.0f  %9.0f  %8.1f", Double(count) / seconds, seconds / Double(count) * 1e9, Double(bytes) / seconds / 1e6),
          "  (\(plan.masks.count) masked columns, \(checksum) bytes out, outputs \(String(outputs, radix: 16)))")
}
