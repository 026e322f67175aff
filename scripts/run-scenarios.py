#!/usr/bin/env python3
"""Run the offline-replay acceptance scenarios of Tests/scenarios against an autohomed binary.

usage: run-scenarios.py BINARY [SCENARIO_DIR ...]
       run-scenarios.py --list [SCENARIO_DIR ...]

A scenario is a folder holding config.json, scripts/ (may be empty), events.ndjson and either
  expected.ndjson          one JSON value per output line (event lines, then the {"state": ...} line), or
  expect-exit              the daemon must refuse the config: "nonzero" or an exact exit code,
  expect-stderr-contains   one requirement per line, each a set of `||`-separated alternatives, of which
                           at least one must occur in stderr (case-insensitive).

For each scenario it runs, inside the scenario folder and with a 60 s timeout:
  BINARY replay --config config.json --scripts scripts events.ndjson
The exit status must be 1 when an output line has `errors`, else 0 (SPEC §10). Scenarios with
expected.ndjson then run once more with `--expect expected.ndjson`, the product's own comparison
(docs/javascript.md), which must agree: exit 0.

Matching of expected.ndjson (subset match):
  * the number of output lines must equal the number of expected lines;
  * object: every key written in the expectation must exist in the actual object and match (extra
    actual keys are ignored);
  * array: same length, element-wise match;
  * number: numeric (not boolean), equal within 1e-9; bool/string/null: equal;
  * special single-key objects:
      {"$contains": "s" | ["s1", ...]}  a string containing every s (case-insensitive)
      {"$any": true}                    anything, but the key must exist
      {"$unordered": [...]}             an array of the same length matching in some order
      {"$has": [...]}                   an array in which each item matches a distinct element
      {"$lacks": [...]}                 an array in which no element matches any item
Ends with the line "N passed, N failed"; exits 1 if any scenario failed.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

TIMEOUT = 60
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.join(os.path.dirname(HERE), "Tests", "scenarios")


# ----------------------------------------------------------------------------- matching
def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _special(exp):
    if isinstance(exp, dict) and len(exp) == 1:
        k = next(iter(exp))
        if k in ("$contains", "$any", "$unordered", "$has", "$lacks"):
            return k, exp[k]
    return None, None


def match(exp, act, path="$"):
    """Return None when act matches exp, else a message saying where and why not."""
    kind, arg = _special(exp)
    if kind == "$any":
        return None
    if kind == "$contains":
        if not isinstance(act, str):
            return "%s: expected a string containing %r, got %s" % (path, arg, _short(act))
        subs = arg if isinstance(arg, list) else [arg]
        for s in subs:
            if s.lower() not in act.lower():
                return "%s: %s does not contain %r" % (path, _short(act), s)
        return None
    if kind in ("$unordered", "$has", "$lacks"):
        if not isinstance(act, list):
            return "%s: expected an array, got %s" % (path, _short(act))
        if kind == "$lacks":
            for i, a in enumerate(act):
                for e in arg:
                    if match(e, a) is None:
                        return "%s[%d]: %s must not be present" % (path, i, _short(a))
            return None
        if kind == "$unordered" and len(arg) != len(act):
            return "%s: expected %d elements (any order), got %d: %s" % (path, len(arg), len(act), _short(act))
        if not _assign(arg, act, 0, set()):
            what = "in any order" if kind == "$unordered" else "among the elements"
            return "%s: could not match %s %s of %s" % (path, _short(arg), what, _short(act))
        return None
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return "%s: expected an object, got %s" % (path, _short(act))
        for k, v in exp.items():
            if k not in act:
                return "%s: missing key %r" % (path, k)
            m = match(v, act[k], "%s.%s" % (path, k))
            if m:
                return m
        return None
    if isinstance(exp, list):
        if not isinstance(act, list):
            return "%s: expected an array, got %s" % (path, _short(act))
        if len(exp) != len(act):
            return "%s: expected %d elements, got %d: %s" % (path, len(exp), len(act), _short(act))
        for i, (e, a) in enumerate(zip(exp, act)):
            m = match(e, a, "%s[%d]" % (path, i))
            if m:
                return m
        return None
    if _is_num(exp):
        if not _is_num(act) or abs(exp - act) > 1e-9:
            return "%s: expected %r, got %s" % (path, exp, _short(act))
        return None
    if isinstance(exp, bool) or exp is None or isinstance(exp, str):
        if type(act) is not type(exp) or act != exp:
            return "%s: expected %s, got %s" % (path, _short(exp), _short(act))
        return None
    return "%s: unsupported expectation %r" % (path, exp)


def _assign(exps, acts, i, used):
    if i == len(exps):
        return True
    for j, a in enumerate(acts):
        if j not in used and match(exps[i], a) is None:
            used.add(j)
            if _assign(exps, acts, i + 1, used):
                return True
            used.discard(j)
    return False


def _short(v, limit=300):
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + "…(%d chars)" % len(s)


# ----------------------------------------------------------------------------- running
def is_scenario(d):
    return os.path.isfile(os.path.join(d, "config.json")) and os.path.isfile(os.path.join(d, "events.ndjson"))


def find_scenarios(args):
    roots = args or [DEFAULT_ROOT]
    out = []
    for r in roots:
        r = os.path.abspath(r)
        if is_scenario(r):
            out.append(r)
        elif os.path.isdir(r):
            out.extend(os.path.join(r, n) for n in sorted(os.listdir(r)) if is_scenario(os.path.join(r, n)))
        else:
            print("no such scenario: %s" % r, file=sys.stderr)
            out.append(r)  # reported as a failure
    return out


def run_one(binary, sdir):
    """Return a list of failure messages (empty when the scenario passed)."""
    if not is_scenario(sdir):
        return ["not a scenario folder (config.json and events.ndjson needed)"]
    scripts = os.path.join(sdir, "scripts")
    cmd = [binary, "replay", "--config", "config.json", "--scripts", "scripts" if os.path.isdir(scripts) else ".",
           "events.ndjson"]
    try:
        # own session, so that on a timeout every process the daemon started is killed too
        p = subprocess.Popen(cmd, cwd=sdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        return ["cannot run %s: %s" % (binary, e)]
    try:
        raw_out, raw_err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.communicate()
        return ["timed out after %d s" % TIMEOUT]
    out = raw_out.decode("utf-8", "replace")
    err = raw_err.decode("utf-8", "replace")
    tail = ("stderr:\n" + _indent(err[-2000:])) if err.strip() else "stderr: (empty)"

    exit_file = os.path.join(sdir, "expect-exit")
    if os.path.isfile(exit_file):
        want = open(exit_file).read().strip()
        fails = []
        if want in ("", "nonzero"):
            if p.returncode == 0:
                fails.append("expected a non-zero exit, got 0")
        elif p.returncode != int(want):
            fails.append("expected exit %s, got %d" % (want, p.returncode))
        needles = os.path.join(sdir, "expect-stderr-contains")
        if os.path.isfile(needles):
            for line in open(needles, encoding="utf-8").read().splitlines():
                alts = [a.strip() for a in line.split("||") if a.strip()]
                if alts and not any(a.lower() in err.lower() for a in alts):
                    fails.append("stderr contains none of %s" % " / ".join(repr(a) for a in alts))
        if fails:
            fails.append(tail)
        return fails

    fails = []
    expected = []
    with open(os.path.join(sdir, "expected.ndjson"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                expected.append(json.loads(line))
    actual = []
    for n, line in enumerate(out.splitlines(), 1):
        if not line.strip():
            continue
        try:
            actual.append(json.loads(line))
        except ValueError as e:
            fails.append("stdout line %d is not JSON (%s): %s" % (n, e, line[:300]))
            actual.append({"$unparsable": line})
    want_rc = 1 if any(isinstance(a, dict) and a.get("errors") for a in actual) else 0
    if p.returncode != want_rc:
        fails.append("exit status %d (expected %d: %s)" % (p.returncode, want_rc,
                     "a line has errors" if want_rc else "no line has errors"))
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else None
        a = actual[i] if i < len(actual) else None
        if e is None:
            fails.append("output line %d is extra:\n    actual:   %s" % (i + 1, _short(a, 2000)))
            continue
        if a is None:
            fails.append("output line %d is missing:\n    expected: %s" % (i + 1, _short(e, 2000)))
            continue
        m = match(e, a)
        if m:
            fails.append("output line %d: %s\n    expected: %s\n    actual:   %s" % (i + 1, m, _short(e, 2000),
                                                                                    _short(a, 2000)))
    if not fails:
        fails += run_expect(binary, sdir, cmd)
    if fails:
        fails.append(tail)
    return fails


def run_expect(binary, sdir, cmd):
    """The same replay with `--expect expected.ndjson`: the product's comparison must agree."""
    cmd = cmd[:2] + ["--expect", "expected.ndjson"] + cmd[2:]
    try:
        p = subprocess.run(cmd, cwd=sdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return ["--expect timed out after %d s" % TIMEOUT]
    if p.returncode != 0:
        return ["replay --expect expected.ndjson exited %d:\n%s" % (p.returncode, _indent(p.stdout.decode("utf-8", "replace")[-3000:]))]
    return []


def _indent(s):
    return "\n".join("    " + l for l in s.rstrip().splitlines())


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "--list":
        for s in find_scenarios(argv[1:]):
            print(os.path.basename(s))
        return 0
    binary = argv[0]
    if os.sep in binary or os.path.exists(binary):
        binary = os.path.abspath(binary)
    else:
        binary = shutil.which(binary) or binary
    passed = failed = 0
    for sdir in find_scenarios(argv[1:]):
        name = os.path.basename(sdir)
        fails = run_one(binary, sdir)
        if fails:
            failed += 1
            print("FAIL %s" % name)
            for f in fails:
                print(_indent(f))
        else:
            passed += 1
            print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
