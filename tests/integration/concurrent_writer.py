"""A writer process for the concurrency test: records commands one at a time, reports which
were accepted (JSON on stdout)."""

from __future__ import annotations

import json
import sys

from engine.bootstrap import open_store
from engine.commands import parse_command
from engine.errors import Rejected

SCHOOLS = [f"T{n}" for n in range(1, 5)] + [f"UT{n}" for n in range(1, 5)]


def commands(worker: int, count: int) -> list[dict]:
    """Lead appointments (repeatable, each identified) and contested SSA visits (once each)."""
    out = []
    for k in range(count):
        school = SCHOOLS[(worker + k) % len(SCHOOLS)]
        base = {"on": "2009-10-05", "by": f"w{worker}@test.test", "school": school}
        if k % 4 == 0:
            out.append({"cmd": "dcsf.ssa_visit_held", **base, "round": 1 + (k // 4) % 2})
        else:
            out.append({"cmd": "school.lead_appointed", **base, "name": f"w{worker}-{k}",
                        "email": f"w{worker}.{k}@test.test"})
    return out


def main(url: str, user: str, worker: int, count: int) -> None:
    import logging

    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
                        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    accepted, refused = [], []
    with open_store(url) as store:
        for n, command in enumerate(commands(worker, count), 1):
            try:
                store.execute([(n, parse_command(command))], user)
                accepted.append(command)
            except Rejected as exc:
                refused.append({**command, "reason": str(exc)})
    json.dump({"accepted": accepted, "refused": refused}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
