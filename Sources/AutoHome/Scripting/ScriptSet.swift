import AutoHomeSupport

/// One generation of the owner's scripts: what every VM loads. Immutable; a
/// reload makes a new set with the next generation number.
public struct ScriptFile: Sendable, Equatable {
    public var name: String
    public var source: String
    public init(name: String, source: String) { self.name = name; self.source = source }
}

public final class ScriptSet: @unchecked Sendable {
    public let generation: Int
    /// `common.js` first, then the others in name order (SPEC §4).
    public let files: [ScriptFile]

    public init(generation: Int, files: [ScriptFile]) {
        self.generation = generation
        let common = files.filter { $0.name == "common.js" }
        let others = files.filter { $0.name != "common.js" }.sorted { $0.name < $1.name }
        self.files = common + others
    }

    /// The text a VM loads for a file. Files other than common.js run inside
    /// their own function scope with their own `home`/`console` (so logs carry
    /// the script's name); the wrapper sits on the first line so error line
    /// numbers stay the file's own.
    static func loadableSource(_ f: ScriptFile) -> String {
        if f.name == "common.js" { return f.source }
        let quoted = JSON.string(f.name).text
        return "(function (home, console, set) {" + f.source + "\n}).apply(null, __scopedArgs(\(quoted)));"
    }

    /// Reads every `*.js` file of a folder (a missing folder is an empty set).
    public static func load(directory: String, generation: Int) throws(FileError) -> ScriptSet {
        guard Files.isDirectory(directory) else { return ScriptSet(generation: generation, files: []) }
        var files: [ScriptFile] = []
        for name in try Files.list(directory) where Identifiers.isValidScriptName(name) {
            files.append(ScriptFile(name: name, source: try Files.readText(directory + "/" + name)))
        }
        return ScriptSet(generation: generation, files: files)
    }
}

/// A script problem reported to the owner: which file, which line, what.
public struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
    public var script: String?
    public var line: Int?
    public var message: String
    /// The event whose run threw this; nil outside a run.
    public var seq: UInt64?

    public init(script: String?, line: Int?, message: String) {
        self.script = script
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (script, line) {
        case let (s?, l?): return "\(s):\(l): \(message)"
        case let (s?, nil): return "\(s): \(message)"
        default: return message
        }
    }

    /// Reads MuJS's error text: "TypeError: msg\n\tat f (file.js:12)\n…" for
    /// runtime errors, "SyntaxError: file.js:3: msg" for compile errors. The
    /// first frame in an owner's script names the place.
    static func fromMuJS(_ text: String, fallbackScript: String? = nil) -> ScriptError {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var message = lines.isEmpty ? text : lines.removeFirst()
        for frame in lines {
            guard let open = frame.lastIndex(of: "("), let close = frame.lastIndex(of: ")"), open < close else {
                // "\tat file.js:3" (top level) has no parentheses
                if let loc = parseLocation(frame.trimmingSpaces().replacingPrefix("at ", with: "")) { return ScriptError(script: loc.0, line: loc.1, message: message) }
                continue
            }
            let inner = String(frame[frame.index(after: open)..<close])
            if let loc = parseLocation(inner) { return ScriptError(script: loc.0, line: loc.1, message: message) }
        }
        // "SyntaxError: file.js:3: unexpected token"
        if let colon = message.firstIndex(of: ":") {
            let kind = message[..<colon]
            let rest = String(message[message.index(after: colon)...]).trimmingSpaces()
            let parts = rest.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count >= 3, let line = Int(String(parts[1])), parts[0].hasSuffix(".js") {
                message = "\(kind):\(parts[2])"
                return ScriptError(script: String(parts[0]), line: line, message: message)
            }
        }
        return ScriptError(script: fallbackScript, line: nil, message: message)
    }

    private static func parseLocation(_ s: String) -> (String, Int)? {
        guard let colon = s.lastIndex(of: ":"), let line = Int(s[s.index(after: colon)...]) else { return nil }
        let file = String(s[..<colon])
        guard file.hasSuffix(".js"), file != Prelude.fileName else { return nil }
        return (file, line)
    }
}
