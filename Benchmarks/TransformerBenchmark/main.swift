import Crypto
import Foundation
let key = SymmetricKey(data: Array("test-key-0123456789".utf8))
let inputs = (0..<1_000_000).map { "user\($0)@example.org" }
var t = Date()
var acc: UInt8 = 0
for s in inputs { let mac = HMAC<SHA256>.authenticationCode(for: Array(s.utf8), using: key); acc ^= mac.withUnsafeBytes { $0[0] } }
print("oneshot", Date().timeIntervalSince(t), acc)
let base = HMAC<SHA256>(key: key)
t = Date()
for s in inputs { var h = base; var u = s; u.withUTF8 { h.update(data: UnsafeRawBufferPointer($0)) }; let mac = h.finalize(); acc ^= mac.withUnsafeBytes { $0[0] } }
print("copied", Date().timeIntervalSince(t), acc)
// pure swift: one block compress x2 per value
var st = State(h: (0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19))
var blk = [UInt8](repeating: 0, count: 64)
t = Date()
for s in inputs { var s2 = st; var u = s; u.withUTF8 { p in blk.withUnsafeMutableBytes { b in b.copyMemory(from: UnsafeRawBufferPointer(p)); compress(&s2, b.baseAddress!); var s3 = st; compress(&s3, b.baseAddress!); acc ^= UInt8(truncatingIfNeeded: s2.h.0 ^ s3.h.1) } } }
print("pure", Date().timeIntervalSince(t), acc)
