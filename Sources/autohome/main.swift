import AutoHomeClient
import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

// autohome: the owner's command-line client (SPEC §9). Errors go to stderr
// with the exit status of ClientError.exitCode.

signal(SIGPIPE, SIG_IGN)
let argv = Array(CommandLine.arguments.dropFirst())

/// The command the first positional words name (longest match first).
func findCommand(_ words: [String]) -> (Command, Int)? {
    for n in [2, 1] where words.count >= n {
        if let c = allCommands.first(where: { $0.words == Array(words.prefix(n)) }) { return (c, n) }
    }
    return nil
}

func overview() -> String {
    var s = """
        usage: autohome [--server HOST[:PORT]] [--token T] [--pin sha256:HEX] [--json] COMMAND [ARGS]

        The owner's client for an auto-home appliance, over HTTP/3.

        commands:

        """
    for c in allCommands {
        s += "  " + (c.name + (c.usage.isEmpty ? "" : " " + c.usage)).padding(to: 44) + " " + c.summary + "\n"
    }
    s += """

        `autohome COMMAND --help` shows a command's options and examples.
        Defaults: $AUTOHOME_SERVER, $AUTOHOME_TOKEN, then ~/.config/auto-home/config.json.
        Exit status: 0 ok, 2 usage, 3 unreachable or certificate refused, 4 unauthorised, 5 not found, 1 other.
        """
    return s
}

func main() -> Int32 {
    // First pass: find the command among the positionals with every option
    // known, so options may come before or after it.
    let everyOption = Globals.options + allCommands.flatMap(\.options)
    var unique: [OptionSpec] = []
    for o in everyOption where !unique.contains(where: { $0.name == o.name }) { unique.append(o) }
    do throws(ClientError) {
        let pre = try ArgumentParser.parse(argv, options: unique)
        guard let (cmd, nwords) = findCommand(pre.positionals) else {
            if pre.positionals.isEmpty {
                Output.raw(overview() + "\n")
                return pre.has("help") ? 0 : 2
            }
            if pre.positionals.first == "help" {
                if let (c, _) = findCommand(Array(pre.positionals.dropFirst())) { Output.raw(c.helpText); return 0 }
                Output.raw(overview() + "\n")
                return 0
            }
            throw ClientError.usage("unknown command '\(pre.positionals.prefix(2).joined(separator: " "))' (autohome --help lists them)")
        }
        if pre.has("help") {
            Output.raw(cmd.helpText)
            return 0
        }
        var args = try ArgumentParser.parse(argv, options: Globals.options + cmd.options)
        // drop the command words (they are the first positionals)
        args.positionals.removeFirst(nwords)
        let (lo, hi) = cmd.arity
        if args.positionals.count < lo || (hi != nil && args.positionals.count > hi!) {
            throw ClientError.usage("usage: autohome \(cmd.name) \(cmd.usage)   (autohome \(cmd.name) --help)")
        }
        if args.has("verbose") {
            H3Core.logLevel = 3
            H3Core.logSink = { _, m in fputs("autohome: quic: \(m)\n", stderr) }
        }
        let inv = Invocation(args: args, settings: try Settings(args))
        defer { inv.close() }
        return try cmd.run(inv)
    } catch {
        Output.error(error.description)
        return error.exitCode
    }
}

exit(main())
