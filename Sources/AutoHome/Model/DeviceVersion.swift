import AutoHomeSupport

/// The definition of a device plus a name index, shared by all of its versions.
public final class DeviceSchema: @unchecked Sendable {
    public let definition: DeviceDefinition
    private let index: [String: Int]

    public init(_ definition: DeviceDefinition) {
        self.definition = definition
        var idx: [String: Int] = [:]
        for (i, p) in definition.properties.enumerated() { idx[p.name] = i }
        index = idx
    }

    public var id: String { definition.id }
    public func propertyIndex(_ name: String) -> Int? { index[name] }
    public func property(_ i: Int) -> PropertyDefinition { definition.properties[i] }
}

/// One immutable version of a device: what a snapshot hands out. A commit makes
/// a new version of the one device it touches; nothing else is copied.
public final class DeviceVersion: @unchecked Sendable {
    public let schema: DeviceSchema
    public let values: [PropertyValue]
    /// The commit that made it; snapshots see versions with seq ≤ theirs.
    public let seq: UInt64

    init(schema: DeviceSchema, values: [PropertyValue], seq: UInt64) {
        self.schema = schema
        self.values = values
        self.seq = seq
    }

    public var id: String { schema.id }
    public var definition: DeviceDefinition { schema.definition }

    public func value(_ name: String) -> PropertyValue? {
        schema.propertyIndex(name).map { values[$0] }
    }
}
