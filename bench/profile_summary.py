"""Summarise a py-spy ``--format raw`` profile: the costliest functions.

Usage: ``python bench/profile_summary.py bench/results/sign-profile.txt [N]``.
Each raw line is ``frame;frame;...;leaf COUNT``; a function's inclusive share
counts the samples whose stack holds it at least once, its self share the
samples where it is the leaf.
"""

import re
import sys
from collections import Counter
from pathlib import Path

# "function (path/to/file.py:123)" -> "function (file.py)", so lines merge.
FRAME = re.compile(r"^(?P<name>.*?) \((?P<path>[^:]*)(?::\d+)?\)$")
SITE = re.compile(r".*/(?:site-packages|python3\.\d+)/")


def short(frame: str) -> str:
    """A frame without its line number and with a short path."""
    match = FRAME.match(frame)
    if not match:
        return frame
    path = SITE.sub("", match["path"]).replace("/work/main/", "")
    return f"{match['name']} ({path})"


def load(path: Path) -> list[tuple[list[str], int]]:
    """The stacks (root first, process frames dropped) and their sample counts.

    With ``--nonblocking`` py-spy now and then reads a frame mid-update and
    writes garbage; such lines are skipped.
    """
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        stack = [
            short(frame)
            for frame in frames.split(";")
            if not frame.startswith("process ")
        ]
        stacks.append((stack, int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]]) -> tuple[int, Counter, Counter]:
    """Total samples, inclusive counts and self counts per function."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for stack, count in stacks:
        total += count
        for frame in set(stack):
            inclusive[frame] += count
        if stack:
            own[stack[-1]] += count
    return total, inclusive, own


def main() -> None:
    """Print the top functions by inclusive and by self share."""
    path = Path(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    total, inclusive, own = summarise(load(path))
    print(f"{total} samples in {path}")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\nTop {top} by {title} share:")
        for frame, count in counter.most_common(top):
            print(f"{100 * count / total:6.1f}%  {frame}")


if __name__ == "__main__":
    main()
