import AutoHomeSupport
import FuzzDriver
import Glibc

/// libFuzzer harness: the strict JSON parser every request body and file goes
/// through. Beyond "no crash, no hang": what parses must print and parse back
/// to the same value (the writer and the parser agree), and what is refused
/// must say where, inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    do throws(JSONParseError) {
        let value = try JSON.parse(bytes: bytes)
        let printed = value.text
        guard let again = try? JSON.parse(printed) else { fatalError("printed JSON does not parse: \(printed)") }
        if again != value { fatalError("round trip changed the value: \(printed)") }
    } catch {
        if error.offset < 0 || error.offset > size { fatalError("error offset \(error.offset) outside 0...\(size)") }
    }
    return 0
}

@main
struct FuzzJSONMain {
    static func main() {
        exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv, { fuzzJSON($0, $1) }))
    }
}
