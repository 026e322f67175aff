#!/usr/bin/env bash
# Writes DIR/config.json for `make run`: the daemon on the default port with
# all of its data (admin token, TLS certificate, scripts, registrations)
# under DIR. LISTEN overrides the address (default 127.0.0.1:4242, so a dev
# machine does not expose the API; use LISTEN=0.0.0.0:4242 to serve the LAN).
# When DIR/config.json exists it is kept (you may have edited it): LISTEN,
# if given, replaces its "listen" key, and the run says which file it uses.
#   scripts/make-run-config.sh DIR
set -euo pipefail
dir=${1:?usage: make-run-config.sh DIR}
if [ -f "$dir/config.json" ]; then
    file=$(cd "$dir" && pwd)/config.json
    if [ -n "${LISTEN:-}" ]; then
        python3 - "$file" "$LISTEN" <<'PY'
import json, sys
path, listen = sys.argv[1], sys.argv[2]
with open(path) as f:
    cfg = json.load(f)
old = cfg.get("listen", "0.0.0.0:4242")
if old != listen:
    cfg["listen"] = listen
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    import os
    os.replace(path + ".tmp", path)
    print("%s: listen changed from %s to %s (LISTEN)" % (path, old, listen))
PY
    fi
    now=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("listen", "0.0.0.0:4242"))' "$file")
    echo "using $file (listen $now); LISTEN=HOST:PORT make run changes the address, rm $file starts over"
    exit 0
fi
listen=${LISTEN:-127.0.0.1:4242}
mkdir -p "$dir/scripts"
abs=$(cd "$dir" && pwd)
# Start from the appliance's default scripts, as a new appliance does.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$(ls -A "$abs/scripts" 2>/dev/null)" ]; then
    cp "$here"/overlay/usr/share/auto-home/scripts/*.js "$abs/scripts/"
fi
cat > "$abs/config.json" <<JSON
{
  "listen": "$listen",
  "dataDir": "$abs",
  "logLevel": "info",
  "devices": [
    {"id": "demo-lamp", "name": "Demo lamp", "properties": [
      {"name": "power", "type": "switch"},
      {"name": "level", "type": "dial", "min": 0, "max": 100}
    ]}
  ]
}
JSON
port=${listen##*:}
cat <<TXT
wrote $abs/config.json (listen $listen, data in $abs)
On first start the daemon writes the admin token to $abs/admin.token and logs
the TLS certificate's SHA-256 fingerprint. Try, from another terminal:
  python3 Tests/blackbox/h3client.py $port GET /v1/ping
  python3 Tests/blackbox/h3client.py --token "\$(cat $abs/admin.token)" $port GET /v1/status
TXT
