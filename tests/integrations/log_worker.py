"""A training-loop stand-in for the concurrency test: logs its own run and a shared one, then exits."""

from __future__ import annotations

import sys

from scalelaw.integrations import RunLogger


def main(store: str, worker: int, workers: int, points: int) -> None:
    own = RunLogger(store, f"worker-{worker}", meta={"params": 1e6 * (worker + 1)}, flush_every=7)
    shared = RunLogger(store, "shared", meta={"params": 5e6}, flush_every=5)
    for i in range(points):
        own.log(i + 1, loss=5.0 - i / points, lr=1e-3)
        shared.log(i * workers + worker + 1, loss=4.0 - (i * workers + worker) / (points * workers))
    own.close()
    shared.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
