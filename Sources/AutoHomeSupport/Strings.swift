/// String helpers shared by the engine and the server.
extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    public func trimmingSpaces() -> String {
        let u = Array(utf8)
        var a = 0, b = u.count
        while a < b, u[a] == 0x20 || u[a] == 0x09 || u[a] == 0x0A || u[a] == 0x0D { a += 1 }
        while b > a, u[b - 1] == 0x20 || u[b - 1] == 0x09 || u[b - 1] == 0x0A || u[b - 1] == 0x0D { b -= 1 }
        return String(decoding: u[a..<b], as: UTF8.self)
    }
}

extension String {
    public func replacingPrefix(_ p: String, with r: String) -> String {
        hasPrefix(p) ? r + dropFirst(p.count) : self
    }
}
