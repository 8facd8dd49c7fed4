#!/usr/bin/env python3
"""A worker for the `external` reward's tests: speaks the JSON-lines protocol of
docs/rewards.md and misbehaves on request. The request's `completion` picks the behaviour:
  crash        exit with status 3 without replying
  hang         sleep far past any timeout
  not-json     write a line that is not JSON
  wrong-id     reply with an id no request has
  no-value     reply without a value
  close        close stdout without replying, then keep running
  slow:S       sleep S seconds, then reply as below
  values       reply {"values": {"correct": 1, "style": 0.5}}
  stderr-flood write 1 MiB to stderr in 16 lines, then reply as below
  anything else: value 1 when completion == answer, else 0, with the reason "echo".
It never sandboxes or verifies anything; it exists to exercise the protocol."""
import json
import os
import sys
import time

for line in sys.stdin:
    request = json.loads(line)
    rid, completion = request["id"], request["completion"]
    if completion == "crash":
        os._exit(3)
    if completion == "hang":
        time.sleep(3600)
    if completion == "not-json":
        print("this is not json " + "x" * 1000, flush=True)
        continue
    if completion == "wrong-id":
        print(json.dumps({"id": rid + 1000000, "value": 1}), flush=True)
        continue
    if completion == "no-value":
        print(json.dumps({"id": rid, "reason": "forgot the value"}), flush=True)
        continue
    if completion == "close":
        sys.stdout.close()
        os.close(1)
        time.sleep(3600)
    if completion == "values":
        print(json.dumps({"id": rid, "values": {"correct": 1, "style": 0.5}, "reason": "named"}), flush=True)
        continue
    if completion.startswith("slow:"):
        time.sleep(float(completion[5:]))
    if completion == "stderr-flood":
        sys.stderr.write(("noise " * 10922 + "\n") * 16)
        sys.stderr.flush()
    value = 1.0 if completion == request["answer"] else 0.0
    extra = request.get("topic", "")
    print(json.dumps({"id": rid, "value": value, "reason": "echo" + (" " + extra if extra else "")}), flush=True)
