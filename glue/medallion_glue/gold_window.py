"""The gold window of a run (`--gold_window`), read by position only: the Python twin of
shared/domain/gold-window.ts `goldTargetsOf` (the dates are worked out once, on the TypeScript side).

The argument is {"size": n, "partitions": [2n - 1 consecutive days, the run's own in the middle]};
target k (0 first: the run's own partition) is partition n - 1 + k, and its window is partitions
k .. k + n - 1 (the target's own last)."""

import json
from dataclasses import dataclass
from typing import List, Tuple

from .errors import JobArgumentError

GOLD_WINDOW = "gold_window"


@dataclass(frozen=True)
class GoldTarget:
    path: str
    values: Tuple[str, ...]
    window: Tuple[str, ...]


def gold_targets(raw: str) -> List[GoldTarget]:
    try:
        arg = json.loads(raw)
    except ValueError as error:
        raise JobArgumentError(f"--{GOLD_WINDOW}: {raw!r} is not JSON ({error})") from error
    size = arg.get("size") if isinstance(arg, dict) else None
    partitions = arg.get("partitions") if isinstance(arg, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < 1 or not isinstance(partitions, list) or len(partitions) != 2 * size - 1:
        raise JobArgumentError(f"--{GOLD_WINDOW}: expected {{size: n >= 1, partitions: 2n - 1 partitions}}, got {raw!r}")
    for p in partitions:
        if not isinstance(p, dict) or not isinstance(p.get("path"), str) or not isinstance(p.get("values"), list):
            raise JobArgumentError(f"--{GOLD_WINDOW}: a partition must be {{path, values}}, got {p!r}")
    return [
        GoldTarget(
            path=partitions[size - 1 + k]["path"],
            values=tuple(partitions[size - 1 + k]["values"]),
            window=tuple(p["path"] for p in partitions[k:k + size]),
        )
        for k in range(size)
    ]
