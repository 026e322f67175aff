import AutoHomeSupport

/// What a handler returns (SPEC §2.6); nothing, or anything else, means continue.
enum ReturnCode: Int {
    case continueProcessing = 0
    case groupProcessing = 1
    case stopProcessing = 2
    case preventUpdate = 3

    init(returned text: String?) {
        let n = text.flatMap { Double($0) }.map { Int($0) } ?? 0
        self = ReturnCode(rawValue: n) ?? .continueProcessing
    }
}
