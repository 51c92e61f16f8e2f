"""The top functions of a py-spy `raw` (collapsed stacks) profile, by self and by total samples.

Run: .venv/bin/python -m bench.profile_top /tmp/prof/generator-1.txt [--top 10]"""

import argparse
from collections import Counter


# Frames every sample passes through (the event loop, FastStream's and fast_depends' dispatch):
# left out of the totals, which then show where the work is.
_PLUMBING = ("asyncio/", "<frozen", "faststream/", "fast_depends/", "anyio/", "services/generator/__main__",
             "services/planner/__main__", "services/gateway/__main__", "uvicorn/", "starlette/", "fastapi/",
             "contextlib", "threading", "concurrent/")


def _short(frame: str) -> str:
    """`function (path/to/file.py:line)` as `function (path/to/file.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else frame


def tops(path: str) -> tuple[int, Counter, Counter]:
    own, total, samples = Counter(), Counter(), 0
    for line in open(path):
        stack, _, count = line.rstrip("\\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_short(frame) for frame in stack.split(";")[1:]]  # first frame: the process
        samples += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            if not frame.split("(")[-1].startswith(_PLUMBING):
                total[frame] += n
    return samples, own, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    for path in args.paths:
        samples, own, total = tops(path)
        print(f"## {path}: {samples} samples")
        print("| self % | function | | total % | function |\n|---|---|---|---|---|")
        for (f1, n1), (f2, n2) in zip(own.most_common(args.top), total.most_common(args.top)):
            print(f"| {100 * n1 / samples:.1f} | `{f1}` | | {100 * n2 / samples:.1f} | `{f2}` |")


if __name__ == "__main__":
    main()
