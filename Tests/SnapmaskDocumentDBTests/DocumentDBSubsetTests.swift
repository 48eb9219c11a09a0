import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// DocumentDB declares no references: a subset follows the ones its rules declare, shaped like
/// MongoDB's sample_analytics (customers hold account ids; transactions point at an account).
@Suite struct DocumentDBSubsetTests {
    static let rules = """
        collections:
          customers:
            fields: { _id: keep, email: email, tier: keep }
          accounts:
            fields: { _id: keep, customer_id: keep, limit: keep }
          transactions:
            fields: { _id: keep, account_id: keep, amount: keep }
          products:
            fields: { _id: keep, name: keep }
        subset:
          roots:
            - collection: customers
              filter: { tier: "gold" }
          references:
            - from: accounts(customer_id)
              to: customers(_id)
            - from: transactions(account_id)
              to: accounts(_id)
              max_children: 2
        """

    static func load(_ scratch: DocumentDBScratch) throws {
        try scratch.insert("src", "customers", (1...60).map {
            #"{"_id": {"$oid": "\#(String(format: "%024x", $0))"}, "email": "c\#($0)@mail.example.org", "tier": "\#($0 % 6 == 0 ? "gold" : "basic")"}"#
        })
        try scratch.insert("src", "accounts", (1...120).map {
            #"{"_id": \#($0), "customer_id": {"$oid": "\#(String(format: "%024x", ($0 - 1) % 60 + 1))"}, "limit": 1000}"#
        })
        try scratch.insert("src", "transactions", (1...600).map {
            #"{"_id": "t\#($0)", "account_id": \#(($0 - 1) % 120 + 1), "amount": \#($0)}"#
        })
        try scratch.insert("src", "products", (1...5).map { #"{"_id": \#($0), "name": "p\#($0)"}"# })
    }

    @Test func referencesDeclaredInTheRulesAreFollowed() throws {
        let scratch = try DocumentDBScratch("docsubset")
        defer { scratch.drop() }
        try Self.load(scratch)
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let report = try DocumentDBJobs.restore(job)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })

        // Gold customers: every sixth.
        #expect(try scratch.documents("stage", "customers").count == 10)
        #expect(try scratch.documents("stage", "customers", filter: #"{"tier": "basic"}"#).isEmpty)
        // Their accounts (ids k and k + 60), and two transactions of each, the first by _id.
        let accounts = try scratch.documents("stage", "accounts")
        #expect(accounts.count == 20)
        let transactions = try scratch.documents("stage", "transactions")
        #expect(transactions.count == 40, "at most two per account: \(transactions.count)")
        for account in [6, 66] {
            let kept = try scratch.documents("stage", "transactions", filter: #"{"account_id": \#(account)}"#)
            let firstTwo = try scratch.documents("src", "transactions", filter: #"{"account_id": \#(account)}"#)
                .sorted().prefix(2)
            #expect(kept.sorted() == Array(firstTwo))
        }
        // Not connected to a root: copied whole.
        #expect(try scratch.documents("stage", "products").count == 5)
        #expect(try scratch.documents("stage", "customers", filter: #"{"email": {"$regex": "mail.example.org"}}"#).isEmpty)
    }

    @Test func aReferenceHeldInAnArrayIsRefused() throws {
        let scratch = try DocumentDBScratch("docsubsetarray")
        defer { scratch.drop() }
        try Self.load(scratch)
        try scratch.insert("src", "accounts", [#"{"_id": 500, "customer_id": [1, 2], "limit": 1}"#])
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        #expect {
            _ = try DocumentDBJobs.restore(job)
        } throws: { "\($0)".contains("'customer_id' holds 2 values (an array); a subset follows references held in single fields only") }
    }
}
