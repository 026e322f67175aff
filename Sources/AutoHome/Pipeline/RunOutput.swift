/// What one run's own handlers log and send, gathered on the VM's thread
/// while the run holds the VM (`ScriptHost.output`). Only that thread touches
/// it, so it needs no lock. The run copies it into its `EventResult`.
final class RunOutput {
    let seq: UInt64
    var logs: [ScriptLog] = []
    var actions: [DeviceAction] = []

    init(seq: UInt64) { self.seq = seq }
}
