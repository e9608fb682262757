"""Several processes writing at once lose nothing and store nothing twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.bootstrap import init_store, open_store
from tests.builders import cluster
from tests.conftest import ADMIN, run

ROOT = Path(__file__).parents[2]
WORKERS, COMMANDS = 8, 200


@pytest.fixture
def two_clusters(postgres_url: str) -> str:
    """A PostgreSQL store with two clusters (schools T1..T4, UT1..UT4); its URL."""
    with init_store(ADMIN, url=postgres_url) as store:
        run(store, *cluster("LA01"), *cluster("LA02", prefix="U"))
    return postgres_url


def test_concurrent_writers_store_every_accepted_command_exactly_once(two_clusters: str) -> None:
    url = two_clusters
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.integration.concurrent_writer", url, ADMIN,
                          str(w), str(COMMANDS)], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=os.environ.copy())
        for w in range(WORKERS)
    ]
    results = []
    for w in workers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err.decode()[-2000:]
        results.append(json.loads(out))

    accepted = [c for r in results for c in r["accepted"]]
    refused = [c for r in results for c in r["refused"]]
    assert len(accepted) + len(refused) == WORKERS * COMMANDS
    assert refused and all("already recorded" in c["reason"] for c in refused)

    with open_store(url) as store:
        events = [e for school in {c["school"] for c in accepted}
                  for e in store.audit(school)]
        leads = Counter(e["payload"]["name"] for e in events if e["event"] == "LeadAppointed")
        visits = Counter((e["payload"]["round"],) for e in events if e["event"] == "SsaVisitHeld")
        accepted_leads = [c["name"] for c in accepted if c["cmd"] == "school.lead_appointed"]
        # Every accepted appointment is stored once; every contested visit once per round.
        assert sorted(leads.elements()) == sorted(accepted_leads)
        assert all(n == 1 for n in leads.values())
        ssa = [c for c in accepted if c["cmd"] == "dcsf.ssa_visit_held"]
        assert len(ssa) == len({(c["school"], c["round"]) for c in ssa})
        assert sum(visits.values()) == len(ssa)

        day = dt.date(2009, 10, 31)
        before = (store.queries.board(day), store.queries.overdue(day))
        store.projector.reset()
        store.projector.catch_up()
        assert (store.queries.board(day), store.queries.overdue(day)) == before
