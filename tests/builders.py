"""Builders of valid commands for tests: a cluster and its schools at each lifecycle stage."""

from __future__ import annotations

from typing import Any

OFFICE = "office@extramile.dcsf.test"


def cmd(command: str, on: str, by: str = OFFICE, **fields: Any) -> dict[str, Any]:
    return {"cmd": command, "on": on, "by": by, **fields}


def register(la: str = "LA01", on: str = "2009-05-10") -> dict[str, Any]:
    return cmd("la.register", on, la=la, name=f"{la} council",
               contact=f"extramile@{la.lower()}.test")


def nominate(school: str, la: str = "LA01", role: str = "trial",
             on: str = "2009-05-21") -> dict[str, Any]:
    return cmd("school.nominate", on, by=f"extramile@{la.lower()}.test", school=school, la=la,
               role=role, name=f"{school} Primary School")


def cluster(la: str = "LA01", on: str = "2009-05-21", prefix: str = "") -> list[dict[str, Any]]:
    """An LA with 4 trial schools (T1..T4) and a partner (P1), ids prefixed."""
    schools = [nominate(f"{prefix}T{i}", la, "trial", on) for i in range(1, 5)]
    return [register(la), *schools, nominate(f"{prefix}P1", la, "partner", on)]


def pupil_rows(n: int = 3) -> list[list[int]]:
    return [[(i + j) % 10 + 1 for j in range(10)] for i in range(n)]


def staff_rows(n: int = 2) -> list[list[int]]:
    return [[(i + j) % 10 + 1 for j in range(12)] for i in range(n)]


def baseline(school: str, on: str = "2009-09-01") -> dict[str, Any]:
    return cmd("school.baselined", on, by=f"head@{school.lower()}.test", school=school,
               activity=2, target_group={"description": "Year 4 FSM pupils", "size": 12},
               pupil_survey=pupil_rows())


def plan(school: str, on: str = "2009-09-10", total: str = "5000.00") -> dict[str, Any]:
    return cmd("school.plan_submitted", on, by=f"head@{school.lower()}.test", school=school,
               plan={"activity": 2, "target_group": "FSM Year 4", "baseline_position": "gap",
                     "leadership": "deputy head", "objectives": "raise aspiration",
                     "success_criteria": "progress", "actions": "groups",
                     "monitoring": "termly", "timeline": "2009-10",
                     "funding": [{"item": "TA hours", "amount": total}]})


def partner_plan(school: str, on: str = "2009-10-01", total: str = "3000.00") -> dict[str, Any]:
    return cmd("school.partner_plan_agreed", on, by=f"head@{school.lower()}.test", school=school,
               plan={"support": "coaching", "time": "1 day a week",
                     "funding": [{"item": "supply cover", "amount": total}]})


def report(command: str, school: str, on: str) -> dict[str, Any]:
    return cmd(command, on, by=f"head@{school.lower()}.test", school=school,
               report={"objectives": "o", "success_criteria": "s", "actions_taken": "a",
                       "outcomes": "x"})


def account(school: str, on: str = "2010-07-10", amount: str = "5200.00") -> dict[str, Any]:
    return cmd("school.financial_account_submitted", on, by=f"head@{school.lower()}.test",
               school=school, lines=[{"item": "TA hours", "amount": amount}])


def to_final(school: str) -> list[dict[str, Any]]:
    """A trial school's lifecycle up to final_submitted."""
    return [baseline(school), plan(school),
            report("school.interim_report_submitted", school, "2010-01-20"),
            report("school.final_report_submitted", school, "2010-06-20")]
