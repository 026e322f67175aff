import AutoHomeSupport

/// One HTTP/3 response, body complete.
public struct Response: Sendable {
    public var status: Int
    public var contentType: String?
    public var retryAfter: String?
    public var body: [UInt8]

    public init(status: Int, contentType: String? = nil, retryAfter: String? = nil, body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.retryAfter = retryAfter
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON (every answer of the API is, SPEC §5).
    public func json() throws(ClientError) -> JSON {
        do { return try JSON.parse(bytes: body) } catch {
            throw .failed("the server sent a response that is not JSON (\(error)): \(text.prefix(200))")
        }
    }

    /// The SPEC §5 error of a 4xx/5xx, or self.
    @discardableResult
    public func checked() throws(ClientError) -> Response {
        guard status >= 400 else { return self }
        throw errorValue
    }

    public var errorValue: ClientError {
        let j = try? JSON.parse(bytes: body)
        let message = j?["error"]?.stringValue ?? (body.isEmpty ? "HTTP \(status)" : text)
        return .http(status: status, message: message, field: j?["field"]?.stringValue)
    }
}
