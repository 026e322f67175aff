import AutoHomeSupport

/// A rejected definition or value: `message` is what a user reads in the HTTP
/// response or the replay line; `field` points at where (e.g. "properties[2].min").
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public let field: String?
    public init(_ message: String, field: String? = nil) {
        self.message = message
        self.field = field
    }
    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
