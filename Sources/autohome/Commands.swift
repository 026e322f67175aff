/// Every command, in the order `autohome --help` lists them.
let allCommands: [Command] = OwnerCommands.all + ScriptCommands.all + [HistoryCommand.command] + StreamCommands.all
    + TokenCommands.all + [BenchCommand.command, DeviceCommand.command]
