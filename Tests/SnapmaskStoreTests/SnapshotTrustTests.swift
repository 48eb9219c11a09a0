import Crypto
import CZstd
import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport
import Testing
@testable import SnapmaskStore

/// The store is an attack surface: whoever can write to the bucket must not be able to run SQL
/// on staging or slip unmasked data in. Each test edits the store as such a writer could, against
/// a local folder and the moto bucket, and checks that the restore refuses, names the snapshot,
/// and leaves staging as it was.
@Suite struct SnapshotTrustTests {
    // MARK: The manifest is authenticated

    @Test(arguments: StoreKind.allCases)
    func anEditedManifestIsRefusedAndStagingIsUnchanged(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snapedit", kind: kind)
        defer { setup.cleanup() }
        _ = try setup.create("edited")
        try setup.markStaging()
        let original = try setup.manifestObject("edited")
        let edits: [(String, (inout [String: Any]) -> Void)] = [
            ("row count", { $0["rows"] = 9001 }),
            ("encrypted: false injected", { $0["encrypted"] = false }),
            ("a schema definition added", {
                $0["definition"] = ["engine": "postgres", "sections": ["pre-data": "DROP TABLE marker;"], "values": [:]]
            }),
            ("finishedAt moved", { $0["finishedAt"] = "2099-01-01T00:00:00Z" }),
            ("MAC removed", { $0.removeValue(forKey: "mac") }),
        ]
        for (what, edit) in edits {
            var object = original
            edit(&object)
            try setup.writeManifest("edited", object)
            #expect(throws: (any Error).self, "\(what)") { try setup.restore("edited") }
            do {
                _ = try setup.restore("edited")
            } catch {
                #expect("\(error)".contains("snapshot edited") && "\(error)".contains("cannot be trusted"), "\(what): \(error)")
            }
            try setup.expectStagingUnchanged()
            let entry = try #require(try setup.catalog().entries().first { $0.name == "edited" })
            #expect(entry.trust != .verified && entry.problem?.contains("edited") == true, "\(what): \(entry.trust)")
            // Nor is it `latest`.
            #expect(throws: SnapshotError.self) { try setup.catalog().open(named: "latest", database: "app") }
        }

        // `encryption: none` turns it into an unsigned snapshot: refused without --allow-unencrypted,
        // and even with it the sealed metadata is not where an unencrypted one keeps it.
        var unsigned = original
        unsigned["encryption"] = "none"
        try setup.writeManifest("edited", unsigned)
        #expect {
            try setup.restore("edited")
        } throws: { error in "\(error)".contains("snapshot edited") && "\(error)".contains("--allow-unencrypted") }
        #expect(throws: SnapshotError.self) { try setup.restore("edited", allowUnencrypted: true) }
        try setup.expectStagingUnchanged()

        // The attacker's own metadata, with a schema definition that would drop a table, under
        // the real manifest: its digest changes, so the MAC fails.
        try setup.writeManifest("edited", original)
        let snapshot = try setup.catalog().open(named: "edited", database: "app")
        var metadata = snapshot.metadata
        var payload = try #require(try JSONSerialization.jsonObject(with: metadata.definition.payload) as? [String: Any])
        payload["preData"] = "DROP TABLE marker;\n" + (payload["preData"] as? String ?? "")
        metadata.definition.payload = try JSONSerialization.data(withJSONObject: payload)
        let text = Array(try SnapshotManifest.encoder(pretty: false).encode(metadata))
        let forged = try PartCodec.encode(text, key: nil, context: [])
        let store = try setup.rawStore()
        try store.put("edited/metadata.zst", data: forged)
        var pointing = original
        pointing["metadata"] = ["key": "edited/metadata.zst", "sha256": SHA256Hex.of(forged), "size": forged.count,
                                "bytes": text.count]
        try setup.writeManifest("edited", pointing)
        #expect {
            try setup.restore("edited")
        } throws: { error in "\(error)".contains("MAC mismatch") && "\(error)".contains("snapshot edited") }
        // Declared unencrypted as well: nothing proves who wrote it, so it needs explicit consent.
        pointing["encryption"] = "none"
        pointing.removeValue(forKey: "mac")
        pointing.removeValue(forKey: "keyDerivation")
        try setup.writeManifest("edited", pointing)
        #expect {
            try setup.restore("edited")
        } throws: { error in "\(error)".contains("not encrypted, so nothing proves snapmask wrote it") }
        try setup.expectStagingUnchanged()

        // Put back as it was, it restores.
        try setup.writeManifest("edited", original)
        #expect(try setup.restore("edited").outcome == "swapped")
    }

    // MARK: Parts are bound to their place

    @Test(arguments: StoreKind.allCases)
    func swappedPartsAreRefused(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snapswap", kind: kind)
        defer { setup.cleanup() }
        let first = try setup.create("swap-a")
        let second = try setup.create("swap-b")
        try setup.markStaging()
        let store = try setup.rawStore()
        func part(_ snapshot: Snapshot, _ table: String) throws -> SnapshotMetadata.Part {
            try #require(snapshot.tables.first { $0.name == table }?.parts.first)
        }
        let usersA = try part(first, "public.users"), ordersA = try part(first, "public.orders")
        let usersB = try part(second, "public.users")

        // Between tables of one snapshot.
        try store.put(ordersA.key, data: try store.get(usersA.key))
        #expect {
            try setup.restore("swap-a")
        } throws: { error in "\(error)".contains(ordersA.key) && "\(error)".contains("swap-a") }
        try setup.expectStagingUnchanged()

        // Between snapshots.
        try store.put(usersB.key, data: try store.get(usersA.key))
        #expect {
            try setup.restore("swap-b")
        } throws: { error in "\(error)".contains(usersB.key) && "\(error)".contains("swap-b") }
        try setup.expectStagingUnchanged()

        // Even where the digests were made to agree, the seal opens only at the part's own place
        // (AES-GCM associated data: format, snapshot id, table, position).
        let catalog = try setup.catalog()
        let keysA = try #require(try catalog.keys(of: first.manifest))
        func read(_ table: String, key: SnapshotKeys, id: String, parts: [SnapshotMetadata.Part] = [usersA]) throws {
            _ = try SnapshotSource.PartReader(parts: parts, table: table, store: store, key: key.sealing, snapshotID: id,
                                              snapshot: "swap-a").next()
        }
        try read("public.users", key: keysA, id: first.manifest.snapshotID) // its own place: opens
        #expect {
            try read("public.orders", key: keysA, id: first.manifest.snapshotID)
        } throws: { error in "\(error)".contains("sealed for another place") }
        #expect {
            try read("public.users", key: keysA, id: second.manifest.snapshotID)
        } throws: { error in "\(error)".contains("sealed for another place") }
        #expect {
            try read("public.users", key: try #require(try catalog.keys(of: second.manifest)), id: second.manifest.snapshotID)
        } throws: { error in "\(error)".contains("sealed for another place") }
        let secondPosition = SnapshotMetadata.Part(key: usersA.key, sha256: usersA.sha256, size: usersA.size, rows: 0,
                                                   bytes: usersA.bytes)
        #expect {
            try SnapshotSource.PartReader(parts: [usersA, secondPosition], table: "public.users", store: store,
                                          key: keysA.sealing, snapshotID: first.manifest.snapshotID, snapshot: "swap-a").drain()
        } throws: { error in "\(error)".contains("sealed for another place") }
    }

    // MARK: `latest` goes by verified manifests only

    @Test(arguments: StoreKind.allCases)
    func latestNeverPicksAForgedOrUnsignedManifest(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snaplatest", kind: kind)
        defer { setup.cleanup() }
        _ = try setup.create("app-real")
        // A copy dated next century under a new name: the MAC no longer matches.
        try setup.copySnapshot("app-real", to: "app-forged")
        try setup.editManifest("app-forged") {
            $0["name"] = "app-forged"
            $0["finishedAt"] = "2099-01-01T00:00:00Z"
        }
        // One that says it is unencrypted, so has no MAC to fail.
        try setup.copySnapshot("app-real", to: "app-unsigned")
        try setup.editManifest("app-unsigned") {
            $0["name"] = "app-unsigned"
            $0["finishedAt"] = "2099-06-01T00:00:00Z"
            $0["encryption"] = "none"
            $0.removeValue(forKey: "mac")
            $0.removeValue(forKey: "keyDerivation")
        }
        // A plain copy: its manifest names another folder.
        try setup.copySnapshot("app-real", to: "app-copied")

        let catalog = try setup.catalog()
        let trust = Dictionary(try catalog.entries().map { ($0.name, $0.trust) }, uniquingKeysWith: { first, _ in first })
        #expect(trust["app-real"] == .verified)
        #expect(trust["app-unsigned"] == .unencrypted)
        for name in ["app-forged", "app-copied"] {
            guard case let .untrusted(reason)? = trust[name] else {
                Issue.record("\(name) is \(String(describing: trust[name]))")
                continue
            }
            #expect(reason.contains(name == "app-forged" ? "MAC mismatch" : "copied from another folder"), "\(reason)")
        }

        let warnings = WarningLog()
        let report = try setup.restore("latest", warnings: warnings)
        #expect(report.snapshot == "app-real")
        #expect(warnings.all.contains { $0.contains("app-forged") && $0.contains("MAC mismatch") }, "\(warnings.all)")
        #expect(warnings.all.contains { $0.contains("app-unsigned") && $0.contains("not encrypted") }, "\(warnings.all)")
        #expect(try catalog.open(named: "latest", database: "app").name == "app-real")
        #expect {
            try setup.restore("app-forged")
        } throws: { error in "\(error)".contains("snapshot app-forged") && "\(error)".contains("cannot be trusted") }
    }

    // MARK: Keys

    @Test func aWrongOrMissingArchiveKeyIsAClearError() throws {
        let setup = try SnapshotFixture("snapkey")
        defer { setup.cleanup() }
        _ = try setup.create("sealed")
        try setup.markStaging()
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: SnapshotFixture.archiveKey, with: SnapshotFixture.otherKey))
        #expect {
            try setup.restore("sealed")
        } throws: { error in
            "\(error)".contains("snapshot sealed") && "\(error)".contains("does not verify with this archive key")
                && !"\(error)".contains(SnapshotFixture.otherKey)
        }
        #expect(try setup.catalog().entries().first?.trust != .verified)
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: "archive_key: \(SnapshotFixture.archiveKey)\n", with: ""))
        #expect {
            try setup.restore("sealed")
        } throws: { error in "\(error)".contains("is encrypted") && "\(error)".contains("SNAPMASK_ARCHIVE_KEY") }
        #expect(try setup.catalog().entries().first?.trust == .unverified)
        try setup.expectStagingUnchanged()
    }

    @Test func weakPassphrasesAreRefusedAndGoodOnesStretched() throws {
        for weak in ["", "short", "fifteen-chars!!"] {
            #expect {
                try ArchiveKey(weak)
            } throws: { error in
                "\(error)".contains("openssl rand -base64 32") && "\(error)".contains("16") && (weak.isEmpty || !"\(error)".contains(weak))
            }
        }
        #expect(try ArchiveKey("sixteen-chars-ok").isPassphrase)
        #expect(try !ArchiveKey(SnapshotFixture.archiveKey).isPassphrase)

        let passphrase = "a long staging passphrase 42"
        let setup = try SnapshotFixture("snappass", archiveKey: passphrase)
        defer { setup.cleanup() }
        let started = Date()
        let snapshot = try setup.create("pass-1")
        let derivation = try #require(snapshot.manifest.keyDerivation)
        #expect(derivation.function == "pbkdf2-hmac-sha256" && derivation.iterations == 600_000)
        #expect(Data(base64Encoded: derivation.salt ?? "")?.count == 16)
        #expect(try setup.create("pass-2").manifest.keyDerivation?.salt != derivation.salt, "a fresh salt per snapshot")
        #expect(Date().timeIntervalSince(started) < 120)
        #expect(try setup.restore("pass-1").outcome == "swapped")
        for object in try setup.rawStore().list(prefix: "") {
            #expect(try setup.rawStore().get(object.key).range(of: Data(passphrase.utf8)) == nil)
        }

        try setup.markStaging()
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        // Another passphrase: the MAC fails.
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: passphrase, with: "another long passphrase 42"))
        #expect {
            try setup.restore("pass-1")
        } throws: { error in "\(error)".contains("does not verify with this archive key") }
        // A 32-byte key where a passphrase was used: said so.
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: passphrase, with: SnapshotFixture.archiveKey))
        #expect {
            try setup.restore("pass-1")
        } throws: { error in "\(error)".contains("made with a passphrase") }
        try setup.job.write("snapmask.yaml", text)
        // A manifest that makes the passphrase cheap (or the derivation endless) to guess is refused
        // before any work.
        for iterations in [1_000, 1_000_000_000_000] {
            try setup.editManifest("pass-1") {
                var derivation = $0["keyDerivation"] as? [String: Any] ?? [:]
                derivation["iterations"] = iterations
                $0["keyDerivation"] = derivation
            }
            #expect {
                try setup.restore("pass-1")
            } throws: { error in "\(error)".contains("PBKDF2 iterations") && "\(error)".contains("pass-1") }
        }
        try setup.expectStagingUnchanged()
    }

    // MARK: Bounded reads

    /// A zstd frame whose header declares `size` bytes of content, with an empty raw block.
    static func frame(declaring size: UInt64) -> [UInt8] {
        var bytes: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]  // magic, single segment, 8-byte content size
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: size >> UInt64(shift))) }
        return bytes + [0x01, 0x00, 0x00]  // last block, raw, 0 bytes
    }

    @Test func aHugeDeclaredSizeIsRefusedWithoutAllocating() throws {
        let huge = Self.frame(declaring: 1 << 40)
        #expect(huge.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) } == 1 << 40)
        #expect {
            try PartCodec.decode(Data(huge), key: nil, context: [], expectedBytes: 100, limit: SnapshotFormat.partLimit, what: "part x")
        } throws: { error in "\(error)".contains("declares 1099511627776 bytes") && "\(error)".contains("part x") }
        // Sealed by someone holding the key: the bound holds all the same.
        let key = SymmetricKey(size: .bits256)
        let sealed = try AES.GCM.seal(huge, using: key, authenticating: [1, 2, 3]).combined!
        #expect {
            try PartCodec.decode(sealed, key: key, context: [1, 2, 3], expectedBytes: 1 << 40, limit: SnapshotFormat.partLimit,
                                 what: "part y")
        } throws: { error in "\(error)".contains("more than the \(SnapshotFormat.partLimit) bytes") }
    }

    @Test(arguments: StoreKind.allCases)
    func aForgedPartOrManifestCannotMakeTheRestoreAllocate(kind: StoreKind) throws {
        // Unencrypted, so the part list can be edited to match a forged part: the worst case.
        let setup = try SnapshotFixture("snaphuge", kind: kind, archiveKey: nil)
        defer { setup.cleanup() }
        let snapshot = try setup.create("plain", unencrypted: true)
        try setup.markStaging()
        let store = try setup.rawStore()
        let part = try #require(snapshot.tables.first { $0.name == "public.users" }?.parts.first)
        let forged = Data(Self.frame(declaring: 1 << 40))
        try store.put(part.key, data: forged)
        var metadata = snapshot.metadata
        let table = try #require(metadata.tables.firstIndex { $0.name == "public.users" })
        metadata.tables[table].parts[0].sha256 = SHA256Hex.of(forged)
        metadata.tables[table].parts[0].size = forged.count
        let text = Array(try SnapshotManifest.encoder(pretty: false).encode(metadata))
        let stored = try PartCodec.encode(text, key: nil, context: [])
        try store.put(snapshot.manifest.metadata.key, data: stored)
        try setup.editManifest("plain") {
            $0["metadata"] = ["key": snapshot.manifest.metadata.key, "sha256": SHA256Hex.of(stored), "size": stored.count,
                              "bytes": text.count]
        }
        #expect {
            try setup.restore("plain", allowUnencrypted: true)
        } throws: { error in "\(error)".contains("declares 1099511627776 bytes") && "\(error)".contains(part.key) }
        try setup.expectStagingUnchanged()

        // A manifest declaring huge metadata.
        try setup.editManifest("plain") {
            $0["metadata"] = ["key": snapshot.manifest.metadata.key, "sha256": SHA256Hex.of(stored), "size": 1 << 40,
                              "bytes": 1 << 41]
        }
        #expect {
            try setup.restore("plain", allowUnencrypted: true)
        } throws: { error in "\(error)".contains("more than the \(SnapshotFormat.metadataLimit) bytes") }
        try setup.expectStagingUnchanged()

        // A manifest object of 2 MiB is not read whole, and spoils nothing else.
        _ = try setup.create("plain-2", unencrypted: true)
        try store.put("giant/manifest.json", data: Data(repeating: 0x20, count: 2 << 20))
        let giant = try #require(try setup.catalog().entries().first { $0.name == "giant" })
        #expect(giant.problem?.contains("more than the \(SnapshotFormat.manifestLimit)") == true, "\(String(describing: giant.problem))")
        #expect {
            try setup.restore("giant", allowUnencrypted: true)
        } throws: { error in "\(error)".contains("snapshot giant") && "\(error)".contains("larger than") }
        #expect(try setup.restore("latest", allowUnencrypted: true).snapshot == "plain-2")
    }

    // MARK: No silent plaintext

    @Test func plaintextSnapshotsNeedToBeAskedFor() throws {
        let setup = try SnapshotFixture("snapplain", archiveKey: nil)
        defer { setup.cleanup() }
        #expect {
            try setup.create("nokey")
        } throws: { error in "\(error)".contains("no archive key") && "\(error)".contains("--unencrypted") }
        #expect(try setup.rawStore().list(prefix: "").isEmpty, "nothing was written")
        let snapshot = try setup.create("plain", unencrypted: true)
        #expect(!snapshot.encrypted && snapshot.manifest.mac == nil && snapshot.metadata.leakSamples.isEmpty)
        #expect(try setup.catalog().entries().first?.trust == .unencrypted)
        try setup.markStaging()
        #expect {
            try setup.restore("plain")
        } throws: { error in "\(error)".contains("--allow-unencrypted") && "\(error)".contains("snapshot plain") }
        #expect {
            try setup.restore("latest")
        } throws: { error in "\(error)".contains("no complete snapshot") }
        try setup.expectStagingUnchanged()

        // With a key configured it is refused just the same, and with consent it restores.
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        try setup.job.write("snapmask.yaml", "archive_key: \(SnapshotFixture.archiveKey)\n" + text)
        #expect(throws: SnapshotError.self) { try setup.restore("plain") }
        let report = try setup.restore("plain", allowUnencrypted: true)
        #expect(report.outcome == "swapped" && report.leakChecks.count == 4, "the check made while writing it is reported")
        // A key and --unencrypted contradict each other.
        #expect(throws: ConfigError.self) { try setup.create("both", unencrypted: true) }
    }

    // MARK: The masking key stays on the production side

    @Test func aSnapshotRestoresWithoutTheMaskingKey() throws {
        let setup = try SnapshotFixture("snapnomask")
        defer { setup.cleanup() }
        _ = try setup.create("app-1")
        // The staging side's job file: the same, but its masking key variable is not set there.
        let variable = "SNAPMASK_TEST_UNSET_MASKING_KEY_\(UInt32.random(in: 0...UInt32.max))"
        #expect(ProcessInfo.processInfo.environment[variable] == nil)
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: "masking_key: \(TestJob.maskingKey)",
                                                                      with: "masking_key: ${\(variable)}"))
        let job = try setup.job.load()
        #expect(!job.hasMaskingKey)
        #expect {
            try job.maskingKey
        } throws: { error in
            "\(error)".contains(variable) && "\(error)".contains("snapshot create") && "\(error)".contains("does not")
        }
        let report = try setup.restore("latest")
        #expect(report.outcome == "swapped" && report.snapshot == "app-1")
        #expect(report.leakChecks.filter { $0.method == .byKey }.allSatisfy { $0.sampled > 0 && $0.leaks == 0 })
        #expect(try setup.scratch.rows("fromsnap", "SELECT name FROM users WHERE id = 1") == [["Staging Admin"]])
        // Masking from the source still needs it, and says so.
        #expect {
            try setup.restore(nil)
        } throws: { error in "\(error)".contains(variable) }
    }

    // MARK: The restore's leak check from a snapshot

    @Test func anOverrideThatPutsOriginalsBackIsALeak() throws {
        let overrides = SnapshotFixture.overrides + "- sql: put-back.sql\n"
        let putBack = """
            UPDATE users SET name = 'First' || id || ' Last' || id,
                             profile = jsonb_build_object('contact', jsonb_build_object('email', 'c' || id || '@corp.example.org'));
            """
        let setup = try SnapshotFixture("snapleak", overrides: overrides, files: ["put-back.sql": putBack])
        defer { setup.cleanup() }
        let snapshot = try setup.create("leaky")
        #expect(snapshot.metadata.leakSamples.count == 4 && snapshot.leakChecks.allSatisfy { $0.leaks == 0 })
        // While writing, a JSON column is compared leaf by leaf, per rule, as a restore compares it.
        #expect(snapshot.leakChecks.contains { $0.column == "profile" && $0.path == "contact.email" && $0.sampled >= 50 },
                "\(snapshot.leakChecks)")
        try setup.markStaging()
        #expect {
            try setup.restore("leaky")
        } throws: { error in
            let text = "\(error)"
            return text.contains("original values found") && text.contains("public.users.name")
                && text.contains("public.users.profile path contact.email") && !text.contains("public.users.email")
                && !text.contains("First1 Last1")
        }
        try setup.expectStagingUnchanged()
    }

    /// `array: true` columns from a snapshot: with a kept key each sampled element is digested in
    /// its place, so an override putting one original back among fakes is found; without one
    /// (an audit log) the check made while writing searches the elements, not the arrays whole.
    @Test func anOriginalPutBackIntoAnArrayIsALeakFromASnapshot() throws {
        let sourceSQL = """
            CREATE TABLE people (id int PRIMARY KEY, aliases text[]);
            INSERT INTO people SELECT g, ARRAY['alias' || g || '@x.org', NULL, 'other' || g || '@y.org'] FROM generate_series(1, 80) g;
            CREATE TABLE audit (seq int, recipients text[]);
            INSERT INTO audit SELECT g, ARRAY['to' || g || '@x.org', 'cc' || g || '@y.org'] FROM generate_series(1, 80) g;
            """
        let rules = """
            tables:
              people:
                columns: { id: keep, aliases: { transform: email, array: true } }
              audit:
                columns: { seq: keep, recipients: { transform: email, array: true } }
            """
        let putBack = "UPDATE people SET aliases[3] = 'other' || id || '@y.org' WHERE id % 2 = 0;"
        let setup = try SnapshotFixture("snaparray", sourceSQL: sourceSQL, rules: rules, overrides: "- sql: put-back.sql\n",
                                        files: ["put-back.sql": putBack])
        defer { setup.cleanup() }
        let snapshot = try setup.create("arrays")
        let written = try #require(snapshot.leakChecks.first { $0.column == "recipients" })
        #expect(written.method == .byValue && written.leaks == 0 && written.sampled > 80, "\(written)")
        let set = try #require(snapshot.metadata.leakSamples.first { $0.column == "aliases" })
        #expect(set.rows.allSatisfy { $0.probes.map(\.element) == [0, 2] }, "one probe per address, none for the NULL")
        try setup.markStaging()
        #expect {
            try setup.restore("arrays")
        } throws: { error in
            let text = "\(error)"
            return text.contains("original values found") && text.contains("public.people.aliases") && !text.contains("@y.org")
        }
        try setup.expectStagingUnchanged()
    }

    // MARK: prune and create

    @Test(arguments: StoreKind.allCases)
    func pruneDoesNotTouchASnapshotBeingWritten(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snaprace", kind: kind)
        defer { setup.cleanup() }
        let gated = GatedStore(try setup.rawStore())
        let result = OutcomeBox<Snapshot>()
        let thread = Thread {
            result.set(Result { try setup.create("app-inflight", store: gated, leaseRenewal: 0.2) })
        }
        thread.start()
        #expect(gated.reachedManifest.wait(timeout: .now() + 300) == .success, "the create reached its manifest")
        let catalog = try setup.catalog()
        let entry = try #require(try catalog.entries().first { $0.name == "app-inflight" })
        #expect(entry.trust == .incomplete && SnapshotLease.isLive(written: entry.leaseRenewed))
        // Every part is there but the manifest: the harshest prune would take it for a leftover.
        let plan = try catalog.prunePlan(keepLast: 0, olderThan: 0, grace: 0, now: Date().addingTimeInterval(5))
        #expect(!plan.candidates.contains { $0.name == "app-inflight" })
        #expect(plan.skipped.contains { $0.name == "app-inflight" && $0.reason.contains("being written") }, "\(plan.skipped)")
        gated.release.signal()
        let snapshot = try result.wait().get()
        #expect(snapshot.name == "app-inflight")
        #expect(try catalog.store.list(prefix: "app-inflight/").allSatisfy { !$0.key.hasSuffix("lease.json") }, "the lease is gone")
        #expect(try setup.restore("app-inflight").outcome == "swapped")

        // A create killed outright leaves parts and a stale lease: kept during the grace period, then pruned.
        try catalog.store.put("app-killed/parts/0001/000001.zst.aes", data: Data("half a snapshot".utf8))
        let young = try catalog.prunePlan(keepLast: 5, olderThan: 0, now: Date().addingTimeInterval(5))
        #expect(young.skipped.contains { $0.name == "app-killed" && $0.reason.contains("grace") })
        let old = try catalog.prunePlan(keepLast: 5, olderThan: 0, grace: 0, now: Date().addingTimeInterval(5))
        #expect(old.candidates.map(\.name) == ["app-killed"])
    }

    @Test(arguments: StoreKind.allCases)
    func aPartLostBeforeTheManifestFailsTheCreate(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snaplost", kind: kind)
        defer { setup.cleanup() }
        let lossy = GatedStore(try setup.rawStore(), gateManifest: false, lose: { $0.hasSuffix("/000001.zst.aes") && $0.contains("/0002/") })
        #expect {
            try setup.create("app-lost", store: lossy)
        } throws: { error in "\(error)".contains("missing from") && "\(error)".contains("app-lost") }
        #expect(try setup.rawStore().list(prefix: "app-lost/").isEmpty, "no manifest, no leftovers")
    }

    @Test(arguments: StoreKind.allCases)
    func oneBadManifestSpoilsNothingElse(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snapcorrupt", kind: kind)
        defer { setup.cleanup() }
        _ = try setup.create("app-good")
        let store = try setup.rawStore()
        try store.put("app-junk/manifest.json", data: Data("{not json".utf8))
        try store.put("app-old/manifest.json", data: Data(#"{"formatVersion": 1, "name": "app-old", "encrypted": false}"#.utf8))
        try store.put("app-future/manifest.json", data: Data(#"{"formatVersion": 3, "name": "app-future"}"#.utf8))
        try store.put("app-mangled/manifest.json", data: Data(#"{"formatVersion": 2, "name": "app-mangled", "rows": "many"}"#.utf8))

        let catalog = try setup.catalog()
        let entries = try catalog.entries()
        #expect(entries.count == 5)
        let problems = Dictionary(entries.map { ($0.name, $0.problem ?? "") }, uniquingKeysWith: { first, _ in first })
        #expect(problems["app-good"] == "")
        #expect(problems["app-junk"]?.contains("not JSON") == true)
        #expect(problems["app-old"]?.contains("format version 1") == true && problems["app-old"]?.contains("older snapmask") == true)
        #expect(problems["app-future"]?.contains("format version 3") == true && problems["app-future"]?.contains("newer") == true)
        #expect(problems["app-mangled"]?.contains("cannot be read") == true && problems["app-mangled"]?.contains("many") == false)

        let warnings = WarningLog()
        #expect(try setup.restore("latest", warnings: warnings).snapshot == "app-good")
        #expect(warnings.all.count == 4, "\(warnings.all)")
        let plan = try catalog.prunePlan(keepLast: 1, olderThan: 0, grace: 0, now: Date().addingTimeInterval(5))
        #expect(plan.candidates.isEmpty && Set(plan.skipped.map(\.name)) == ["app-junk", "app-old", "app-future", "app-mangled"])
        #expect {
            try setup.restore("app-junk")
        } throws: { error in "\(error)".contains("snapshot app-junk") && "\(error)".contains("cannot be trusted") }
    }

    // MARK: Names

    @Test func snapshotNamesAreCheckedEverywhere() throws {
        for bad in ["", "latest", "../etc", "a/b", "a..b", ".hidden", "bell\u{7}", "new\nline", "naïve",
                    String(repeating: "n", count: 129)] {
            #expect(throws: ConfigError.self, "\(bad.debugDescription)") { try SnapshotName.validate(bad) }
        }
        try SnapshotName.validate("app-20261127T020000Z")
        try SnapshotName.validate(String(repeating: "n", count: 128))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("names"))
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = SnapshotCatalog(store: LocalStore(path: folder.appendingPathComponent("store").path))
        #expect(throws: ConfigError.self) { try catalog.delete("../store") }
        #expect(throws: ConfigError.self) { try catalog.open(named: "a/b", database: nil) }
        #expect(throws: ConfigError.self) { try catalog.inspect(named: "..") }
        // The message shows no control character as such.
        do {
            try SnapshotName.validate("evil\u{1B}[31m")
        } catch {
            #expect(!"\(error)".contains("\u{1B}"))
        }
    }
}

extension SnapshotSource.PartReader {
    /// Reads every part.
    func drain() throws {
        while try next() != nil {}
    }
}

