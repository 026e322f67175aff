import AutoHomeSupport

/// The four property kinds of SPEC §1.
public enum PropertyType: String, Sendable, CaseIterable {
    case `switch`, dial, button, text

    /// Switch and button share the on/off vocabulary and the stored label.
    public var isFlag: Bool { self == .switch || self == .button }
}

/// Who may set a property: RO is reported by the device only, WO is commanded
/// only (the device never reports it), RW both.
public enum PropertyMode: String, Sendable {
    case readOnly = "RO", readWrite = "RW", writeOnly = "WO"

    /// May the device itself report this property in an event?
    public var deviceMayReport: Bool { self != .writeOnly }
    /// May an owner or a script command it?
    public var mayCommand: Bool { self != .readOnly }
}
