"""The top functions of a py-spy `raw` (collapsed stacks) profile, by self and by total samples.

Run: .venv/bin/python -m bench.profile_top /tmp/prof/generator-1.txt [--top 10]"""

import argparse
from collections import Counter


def tops(path: str) -> tuple[int, Counter, Counter]:
    own, total, samples = Counter(), Counter(), 0
    for line in open(path):
        stack, _, count = line.rstrip("\\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in frame else frame for frame in stack.split(";")[1:]]  # first frame: the process
        frames = [f for f in frames if f]
        samples += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
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
