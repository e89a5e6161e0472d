#!/usr/bin/env python3
"""Scale recorded sacct outputs (bench/audit/sacct-cache) by K: each job appears K times under new
job ids (id + k × offset), in every recorded output, whatever its field list and delimiter.

  scale_cache.py CACHE_DIR K

Used by `bench/audit/run.sh sandbox` to compare the tools on more jobs than the sandbox can run in
the time available; the rows are the sandbox's real rows, only renumbered.
"""

import re
import sys
from pathlib import Path

cache, k = Path(sys.argv[1]), int(sys.argv[2])
ID = re.compile(r"^(\d+)(.*)$")
for args_file in cache.glob("*.args"):
    args = args_file.read_text().splitlines()
    fmt = next((a.split("=", 1)[1] for a in args if a.startswith("--format=")), None)
    if fmt is None:
        continue
    names = [n.split("%")[0].lower() for n in fmt.split(",")]
    cols = [i for i, n in enumerate(names) if n in ("jobid", "jobidraw")]
    delim = next((a.split("=", 1)[1] for a in args if a.startswith("--delimiter=")), "|")
    data = Path(str(args_file)[: -len(".args")])
    text = data.read_text()
    # reportseff ends each record with the delimiter and a newline; a plain -P dump does not.
    records = text.split(delim + "\n") if delim != "|" else text.split("\n")
    sep = delim + "\n" if delim != "|" else "\n"
    records = [r for r in records if r]
    offset = 10 ** 7
    out = []
    for copy in range(k):
        for r in records:
            fields = r.split(delim)
            for c in cols:
                if c < len(fields):
                    m = ID.match(fields[c])
                    if m:
                        fields[c] = str(int(m.group(1)) + copy * offset) + m.group(2)
            out.append(delim.join(fields))
    data.write_text(sep.join(out) + sep)
    print(f"{data.name}: {len(records)} records x {k}")
