"""What the HTTP/3 bench reads from /proc: process CPU and RSS, machine load.
Kept apart from scripts/bench-h3.py, which drives the daemon and the clients."""
import os
import threading

CLK_TCK = os.sysconf("SC_CLK_TCK")



def proc_cpu(pid):
    """utime+stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14, 15 of stat(5)


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def machine_busy():
    """Busy CPU of the whole machine (all cores), in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    busy = sum(v[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def mib(kb):
    return "%.1f MiB" % (kb / 1024)


class RssSampler(threading.Thread):
    def __init__(self, pid, every=0.02):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                self.peak = max(self.peak, proc_status_kb(self.pid, "VmRSS"))
            except OSError:
                return
            self.stop_ev.wait(self.every)

    def stop(self):
        self.stop_ev.set()
        self.join(2)
