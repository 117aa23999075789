import Dispatch

/// Runs `body(0) … body(count − 1)` concurrently and returns when all are done.
///
/// `body` need not be `@Sendable`: the callers in this module hand each
/// iteration its own workspace and a disjoint range of the output, which is
/// what makes sharing the closure safe. Keep it that way.
func concurrentForEach(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees
/// that the concurrent uses of it touch disjoint memory.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
