#!/usr/bin/env python3
"""What a log shipper sends to the raw topic, for the worked example: every
line of every file in DIR in the order the programs wrote them (event time,
then file, then place; a line without a time goes with the line before it),
as FILE<tab>EPOCH_MS<tab>LINE for `ll-kafka-mock produce -f file`. Gzipped
rotations are read too."""
import gzip, json, os, sys
from datetime import datetime


def when(line):
    try:
        o = json.loads(line)
    except ValueError:
        return None
    if not isinstance(o, dict):
        return None
    for k in ("time", "timestamp", "@timestamp", "ts"):
        v = o.get(k)
        if isinstance(v, (int, float)):
            return int(v if v > 1e12 else v * 1000)
        if isinstance(v, str):
            try:
                return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)
            except ValueError:
                pass
    return None


d = sys.argv[1]
out = []
for i, name in enumerate(sorted(os.listdir(d))):
    path = os.path.join(d, name)
    if not name.endswith((".log", ".gz")) or not os.path.isfile(path):
        continue
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        last = 0
        for j, line in enumerate(f.read().splitlines()):
            t = when(line)
            last = t if t is not None else last
            shown = name[:-3] if name.endswith(".gz") else name
            out.append((last, i, j, "/var/log/app/" + shown, line))
for t, _, _, f, line in sorted(out):
    print("%s\t%d\t%s" % (f, t, line))
