"""Run every benchmark and print ratios measured in this one run (`make bench`)."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = ["request_time.py", "sync_costs.py", "concurrency.py", "bulk.py", "reconcile.py"]


def main():
    failures = 0
    for name in BENCHMARKS:
        print("== %s" % name, flush=True)
        failures += subprocess.call([sys.executable, os.path.join(HERE, name)]) != 0
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
