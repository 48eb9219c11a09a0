import Foundation
import Snapmask

/// Values per second for every transformer, on one core, over the same kind of inputs a column
/// holds. Run in release mode: `swift run -c release TransformerBenchmark [count] [transformer ...]`.

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let key = try MaskingKey("benchmark-masking-key-0123456789")

func padded(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// Inputs and options for each transformer: distinct values of the shape its columns hold.
let cases: [(name: String, options: [String], input: (Int) -> String)] = [
    ("keep", [], { "order-\($0)" }),
    ("null", [], { "123-45-\($0)" }),
    ("constant", ["value=$2b$12$staging"], { "hash-\($0)" }),
    ("hash", [], { "customer-\($0)" }),
    ("email", [], { "person\($0)@company\($0 % 997).com" }),
    ("first_name", [], { "Given\($0)" }),
    ("last_name", [], { "Family\($0)" }),
    ("full_name", [], { "Given\($0) Family\($0)" }),
    ("username", [], { "user_\($0)" }),
    ("phone", [], { "+1 (415) \(padded($0 / 10_000 % 1000, 3))-\(padded($0 % 10_000, 4))" }),
    ("ssn", [], { "\(padded($0 / 1_000_000 % 900 + 1, 3))-\(padded($0 / 10_000 % 100, 2))-\(padded($0 % 10_000, 4))" }),
    ("credit_card", ["keep_last=4"], { "4111 11\(padded($0 / 1_000_000 % 100, 2)) \(padded($0 / 10_000 % 100, 4)) \(padded($0 % 10_000, 4))" }),
    ("iban", [], { "DE89 3704 0044 \(padded($0 / 10_000, 4)) \(padded($0 % 10_000, 4)) 00" }),
    ("ip", [], { "10.\($0 >> 16 & 255).\($0 >> 8 & 255).\($0 & 255)" }),
    ("street", [], { "\($0 % 9000) Main Street" }),
    ("city", [], { "City \($0)" }),
    ("zip", [], { padded($0 % 100_000, 5) }),
    ("address", [], { "\($0 % 9000) Main Street, Springfield, IL \(padded($0 % 100_000, 5))" }),
    ("company", [], { "Company \($0) Inc" }),
    ("date_shift", ["max_days=180"], { "\(1950 + $0 % 70)-\(padded($0 % 12 + 1, 2))-\(padded($0 % 28 + 1, 2))" }),
    ("year_only", [], { "\(1950 + $0 % 70)-\(padded($0 % 12 + 1, 2))-\(padded($0 % 28 + 1, 2)) 10:22:31" }),
    ("number_noise", [], { "\($0).\(padded($0 % 100, 2))" }),
    ("coordinate", [], { "\(40 + $0 % 50).\(padded($0 % 1_000_000, 6))" }),
    ("digits", [], { "ACC-\(padded($0, 7))" }),
    ("partial", [], { "4111111111\(padded($0, 6))" }),
    ("regex", ["pattern=[0-9]{3}-[0-9]{4}", "with=phone"], { "call 555-\(padded($0 % 10_000, 4)) after five" }),
    ("lorem", [], { "Please call me back at 5pm, ticket \($0) is urgent." }),
    ("uuid", [], { _ in UUID().uuidString.lowercased() }),
    ("json", ["paths=contact.email=email,contact.phones[]=phone,theme=keep"],
     { #"{"contact": {"email": "u\#($0)@corp.io", "phones": ["555-\#(padded($0 % 10_000, 4))"]}, "theme": "dark"}"# }),
]

/// The transformers whose throughput the project promises (values/s).
let targets: [String: Double] = ["hash": 1e6, "email": 1e6, "phone": 1e6, "null": 1e6, "constant": 1e6]

print("transformer    values/s     ns/value   target")
print("-------------  -----------  ---------  ------")
var missed: [String] = []
let chosen = Set(CommandLine.arguments.dropFirst(2))
for entry in cases where chosen.isEmpty || chosen.contains(entry.name) {
    let spec = try TransformSpec.fromCommandLine(name: entry.name, options: entry.options)
    let transformer = try TransformerCatalog.compile(spec, key: key)
    let inputs = (0..<count).map(entry.input)
    var lengths = 0
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
        for input in inputs {
            lengths &+= try transformer.mask(input)?.utf8.count ?? 0
        }
    }
    precondition(lengths > 0 || entry.name == "null", "\(entry.name) wrote nothing")
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(count) / seconds
    var target = ""
    if let goal = targets[entry.name] {
        target = rate >= goal ? "≥1M ok" : "≥1M MISSED"
        if rate < goal { missed.append(entry.name) }
    }
    // The outputs themselves, untimed: a change that alters what a transformer writes shows here.
    var outputs = Fingerprint.fnv1a64("")
    for input in inputs.prefix(10_000) {
        outputs = (outputs ^ Fingerprint.fnv1a64(try transformer.mask(input) ?? "NULL")) &* 0x100_0000_01b3
    }
    let name = entry.name.padding(toLength: 13, withPad: " ", startingAt: 0)
    let rateText = String(format: "%11.0f", rate)
    let nanos = String(format: "%9.0f", seconds / Double(count) * 1e9)
    print("\(name)  \(rateText)  \(nanos)  \(target)   (outputs \(String(outputs, radix: 16)))")
}
if !missed.isEmpty {
    print("below target: \(missed.joined(separator: ", "))")
    exit(1)
}
