#!/usr/bin/env python3
"""The alternative for the parse benchmark: the same job/step merge written the obvious way in
Python (split on '|', a dict of jobs, max MaxRSS per job, the AdminComment record's total), as an
admin's ad-hoc script would. Prints the job count and the sum of peaks, so its work cannot be
skipped.
"""

import re
import sys

UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
RECORD = re.compile(r"qubemem:v1 .*?peak_bytes=(\d+) baseline_bytes=(\d+)")


def size(text, bare=1):
    if not text:
        return None
    if text[-1] in UNITS:
        return round(float(text[:-1]) * UNITS[text[-1]])
    return int(text) * bare


jobs = {}
with open(sys.argv[1]) as f:
    for line in f:
        fields = line.rstrip("\n").split("|")
        if len(fields) < 15:
            continue
        jid, _, step = fields[0].partition(".")
        job = jobs.setdefault(jid, {"peak": None, "predicted": None, "state": None})
        if not step:
            job["state"] = fields[5].split()[0]
            m = RECORD.search(fields[14])
            if m:
                job["predicted"] = int(m.group(1)) + int(m.group(2))
        else:
            rss = size(fields[11])
            if rss is not None and (job["peak"] is None or rss > job["peak"]):
                job["peak"] = rss
print(len(jobs), sum(j["peak"] or 0 for j in jobs.values()))
