"""The demo programme generator: deterministic, well formed and valid under PROGRAMME.md."""

import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from functools import cache

import pytest

from engine.demo_data import generate

# The spec's command table (PROGRAMME.md), restated here so the test does not trust the module.
FIELDS = {
    "la.register": {"la", "name", "contact"},
    "school.nominate": {"school", "la", "role", "name"},
    "school.withdrawn": {"school", "reason"},
    "la.nomination_form_returned": {"la"},
    "la.launch_registration_returned": {"la"},
    "la.attended": {"la", "event"},
    "la.coordinator_appointed": {"la", "name", "email"},
    "la.visit_recorded": {"la", "school", "purpose"},
    "la.funding_statement_submitted": {"la", "lines"},
    "la.networking_event_held": {"la", "round"},
    "la.financial_account_submitted": {"la", "lines"},
    "school.launch_registration_returned": {"school"},
    "school.attended": {"school", "event"},
    "school.lead_appointed": {"school", "name", "email"},
    "school.baselined": {"school", "activity", "target_group", "pupil_survey"},
    "school.plan_submitted": {"school", "plan"},
    "school.partner_plan_agreed": {"school", "plan"},
    "school.surveys_completed": {"school", "round", "pupil", "staff"},
    "school.interim_report_submitted": {"school", "report"},
    "school.final_report_submitted": {"school", "report"},
    "school.case_study_submitted": {"school", "round", "case_study"},
    "school.financial_account_submitted": {"school", "lines"},
    "school.attainment_data_submitted": {"school", "data"},
    "dcsf.invitations_sent": set(),
    "dcsf.launch_invitations_sent": set(),
    "dcsf.website_launched": set(),
    "dcsf.evaluation_supported": set(),
    "dcsf.findings_shared": set(),
    "dcsf.participation_confirmed": {"la"},
    "dcsf.event_held": {"event"},
    "dcsf.newsletter_sent": {"term"},
    "dcsf.plan_feedback_given": {"school"},
    "dcsf.ssa_visit_held": {"school", "round"},
    "dcsf.report_published": {"report"},
    "dcsf.account_closed": {"subject"},
    "dcsf.extension_granted": {"obligation", "subject", "due"},
    "dcsf.obligation_waived": {"obligation", "subject", "reason"},
}
PLAN_FIELDS = {"activity", "target_group", "baseline_position", "leadership", "objectives",
               "success_criteria", "actions", "monitoring", "timeline", "funding"}
# Timeline due dates of the obligations the office may extend (PROGRAMME.md).
DUE = {
    "la.launch_registration": "2009-06-30", "la.coordinator": "2009-09-30",
    "la.visit.plan_support": "2009-09-30", "la.funding_statement": "2009-10-31",
    "la.networking.1": "2009-11-30", "la.visit.spring": "2010-01-31",
    "la.networking.2": "2010-03-31", "la.visit.summer": "2010-05-31",
    "la.networking.3": "2010-06-30", "la.financial_account": "2010-07-31",
    "school.launch_registration": "2009-06-30", "school.lead": "2009-09-30",
    "school.baseline": "2009-09-30", "school.development_plan": "2009-09-30",
    "school.partner_plan": "2009-10-31", "school.surveys.autumn": "2009-10-31",
    "school.interim_report": "2010-01-31", "school.case_study.interim": "2010-01-31",
    "school.surveys.spring": "2010-04-30", "school.final_report": "2010-06-30",
    "school.case_study.final": "2010-06-30", "school.financial_account": "2010-07-31",
    "school.attainment_data": "2010-08-31",
}
FOR_ALL_SCHOOLS = {"school.launch_registration", "school.lead", "school.financial_account",
                   "school.attend.launch", "school.attend.national_networking",
                   "school.attend.celebration"}
TRIAL_STAGES = ["school.nominate", "school.baselined", "school.plan_submitted",
                "school.interim_report_submitted", "school.final_report_submitted",
                "school.financial_account_submitted", "dcsf.account_closed"]
PARTNER_STAGES = ["school.nominate", "school.partner_plan_agreed",
                  "school.financial_account_submitted", "dcsf.account_closed"]
MONEY = re.compile(r"^\d+\.\d\d$")
# Which obligation a command discharges, and for which subject field (PROGRAMME.md's table).
DISCHARGES = {
    "school.launch_registration_returned": ("school.launch_registration", "school"),
    "school.lead_appointed": ("school.lead", "school"),
    "school.baselined": ("school.baseline", "school"),
    "school.plan_submitted": ("school.development_plan", "school"),
    "school.partner_plan_agreed": ("school.partner_plan", "school"),
    "school.interim_report_submitted": ("school.interim_report", "school"),
    "school.final_report_submitted": ("school.final_report", "school"),
    "school.financial_account_submitted": ("school.financial_account", "school"),
    "school.attainment_data_submitted": ("school.attainment_data", "school"),
    "school.surveys_completed": ("school.surveys.{round}", "school"),
    "school.case_study_submitted": ("school.case_study.{round}", "school"),
    "school.attended": ("school.attend.{event}", "school"),
    "la.launch_registration_returned": ("la.launch_registration", "la"),
    "la.coordinator_appointed": ("la.coordinator", "la"),
    "la.funding_statement_submitted": ("la.funding_statement", "la"),
    "la.networking_event_held": ("la.networking.{round}", "la"),
    "la.financial_account_submitted": ("la.financial_account", "la"),
    "la.attended": ("la.attend.{event}", "la"),
    "la.visit_recorded": ("la.visit.{purpose}", "school"),
    "dcsf.ssa_visit_held": ("dcsf.ssa_visit.{round}", "school"),
    "dcsf.evaluation_supported": ("dcsf.evaluation_support", None),
}
SHORT = {"launch_conference": "launch", "spring_monitoring": "spring",
         "summer_monitoring": "summer"}


def discharged(c: dict) -> tuple[str, str] | None:
    """The (obligation, subject) a command discharges, if any."""
    if c["cmd"] not in DISCHARGES:
        return None
    template, field = DISCHARGES[c["cmd"]]
    values = {k: SHORT.get(v, v) for k, v in c.items() if k in ("round", "event", "purpose")}
    return template.format(**values), c[field] if field else "dcsf"


@cache
def programme(las: int = 9, seed: int = 2009) -> tuple[dict, ...]:
    return tuple(generate(las=las, seed=seed))


def of(cmd: str, commands: tuple[dict, ...] | None = None) -> list[dict]:
    return [c for c in commands or programme() if c["cmd"] == cmd]


def total(lines: list[dict]) -> Decimal:
    assert lines and all(MONEY.match(line["amount"]) for line in lines)
    assert all(Decimal(line["amount"]) > 0 for line in lines)
    return sum((Decimal(line["amount"]) for line in lines), Decimal(0))


def test_the_same_seed_gives_the_same_programme() -> None:
    assert generate(las=9, seed=7) == generate(las=9, seed=7)


def test_another_seed_gives_another_programme() -> None:
    assert generate(las=9, seed=7) != generate(las=9, seed=8)


def test_commands_are_sorted_by_real_dates_within_the_programme_year() -> None:
    dates = [c["on"] for c in programme()]
    assert dates == sorted(dates)
    assert all(date.fromisoformat(d) for d in dates)
    assert dates[0] >= "2009-05-01" and dates[-1] <= "2010-09-30"


def test_every_command_has_exactly_the_fields_of_its_kind() -> None:
    for c in programme():
        assert set(c) - {"cmd", "on", "by"} == FIELDS[c["cmd"]], c


def test_nine_las_have_36_trial_schools_plus_replacements_and_9_partners() -> None:
    roles = Counter(c["role"] for c in of("school.nominate"))
    replacements = [c for c in of("school.nominate") if c["school"].startswith("R")]
    assert len(of("la.register")) == 9
    assert roles == {"trial": 36 + len(replacements), "partner": 9}
    assert len(replacements) == len(of("school.withdrawn")) >= 1


def test_ids_and_emails_follow_the_sample() -> None:
    assert sorted(c["la"] for c in of("la.register")) == [f"LA{i:02d}" for i in range(1, 10)]
    for c in of("school.nominate"):
        assert re.fullmatch(r"(T|R)\d{3}" if c["role"] == "trial" else r"P\d{3}", c["school"])
    trial = sorted(c["school"] for c in of("school.nominate") if c["school"].startswith("T"))
    assert trial == [f"T{i:03d}" for i in range(1, 37)]
    assert all(c["contact"] == f"extramile@{c['la'].lower()}.gov.test" for c in of("la.register"))
    email = re.compile(r"^[a-z0-9]+@(la\d+\.gov|[tpr]\d+\.school|extramile\.dcsf)\.test$")
    assert all(email.match(c["by"]) for c in programme())
    assert {c["by"] for c in programme() if c["cmd"].startswith("dcsf.")} == {
        "office@extramile.dcsf.test"}
    assert "coordinator@la01.gov.test" in {c["email"] for c in of("la.coordinator_appointed")}


def test_id_widths_grow_with_the_number_of_parties() -> None:
    commands = programme(las=250, seed=1)
    assert {"LA001", "LA250"} <= {c["la"] for c in of("la.register", commands)}
    schools = {c["school"] for c in of("school.nominate", commands)}
    assert {"T0001", "T1000", "P001", "P250"} <= schools


def test_survey_rows_have_10_pupil_and_12_staff_answers_from_1_to_10() -> None:
    def check(rows: list[list[int]], width: int) -> None:
        assert rows
        assert all(len(row) == width and all(type(a) is int and 1 <= a <= 10 for a in row)
                   for row in rows)

    for c in of("school.surveys_completed"):
        check(c["pupil"], 10)
        check(c["staff"], 12)
    for c in of("school.baselined"):
        check(c["pupil_survey"], 10)
        assert 1 <= c["activity"] <= 7 and set(c["target_group"]) == {"description", "size"}


def test_plans_use_annex_2_and_stay_within_their_allocation() -> None:
    for c in of("school.plan_submitted"):
        assert set(c["plan"]) == PLAN_FIELDS and 1 <= c["plan"]["activity"] <= 7
        assert total(c["plan"]["funding"]) <= Decimal("5000.00")
    for c in of("school.partner_plan_agreed"):
        assert set(c["plan"]) == {"support", "time", "funding"}
        assert total(c["plan"]["funding"]) <= Decimal("3000.00")
    for c in of("la.funding_statement_submitted"):
        assert total(c["lines"]) <= Decimal("7000.00")
    for c in of("school.financial_account_submitted") + of("la.financial_account_submitted"):
        total(c["lines"])


def test_each_schools_lifecycle_comes_in_lifecycle_order() -> None:
    roles = {c["school"]: c["role"] for c in of("school.nominate")}
    steps: dict[str, list[dict]] = defaultdict(list)
    for c in programme():
        school = c.get("school", c.get("subject"))
        if school in roles and c["cmd"] in TRIAL_STAGES + PARTNER_STAGES + ["school.withdrawn"]:
            steps[school].append(c)
    for school, events in steps.items():
        order = TRIAL_STAGES if roles[school] == "trial" else PARTNER_STAGES
        names = [c["cmd"] for c in events if c["cmd"] != "school.withdrawn"]
        positions = [order.index(name) for name in names]
        assert positions[0] == 0 and positions == sorted(set(positions)), (school, names)
        assert [c["on"] for c in events] == sorted(c["on"] for c in events)
        assert all(c["cmd"] != "school.withdrawn" for c in events[:-1])


def test_the_programme_has_a_withdrawal_extensions_and_waivers() -> None:
    assert of("school.withdrawn") and of("dcsf.extension_granted") and of("dcsf.obligation_waived")
    withdrawn = of("school.withdrawn")[0]
    assert "2009-11-01" <= withdrawn["on"] <= "2009-12-31"


def test_an_extension_granted_twice_moves_the_due_date_later() -> None:
    granted: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for c in of("dcsf.extension_granted"):
        granted[(c["obligation"], c["subject"])].append(c)
    repeated = [grants for grants in granted.values() if len(grants) > 1]
    assert repeated
    for grants in repeated:
        assert [g["due"] for g in grants] == sorted({g["due"] for g in grants})
        assert [g["on"] for g in grants] == sorted({g["on"] for g in grants})


@pytest.mark.parametrize(("las", "seed"), [(9, 2009), (9, 1), (9, 42), (30, 7), (60, 99)])
def test_every_command_is_valid_under_the_programme_rules(las: int, seed: int) -> None:
    check = RuleCheck()
    for line, c in enumerate(programme(las=las, seed=seed), start=1):
        try:
            check.apply(c)
        except AssertionError as error:
            where = f"line {line}: {c['cmd']} {c.get('school', c.get('la', ''))}"
            raise AssertionError(f"{where}: {error}") from None


def test_about_125_commands_per_la_at_scale() -> None:
    assert 115 <= len(programme(las=200, seed=3)) / 200 <= 135


def test_at_least_one_la_is_required() -> None:
    with pytest.raises(ValueError):
        generate(las=0)


class RuleCheck:
    """A small, independent reading of PROGRAMME.md's lifecycle and further rules."""

    def __init__(self) -> None:
        self.las: dict[str, str] = {}
        self.schools: dict[str, dict] = {}
        self.la_account: dict[str, str] = {}
        self.closed: set[str] = set()
        self.facts: set[tuple] = set()
        self.dues: dict[tuple[str, str], str] = {}
        self.discharged: set[tuple[str, str]] = set()
        self.waived: set[tuple[str, str]] = set()

    def apply(self, c: dict) -> None:
        self.subjects_exist(c)
        handler = getattr(self, c["cmd"].replace(".", "_"), None)
        if handler:
            handler(c)
        self.once(c)
        key = discharged(c)
        if key:
            assert key not in self.waived, f"{key} discharged after it was waived"
            self.discharged.add(key)

    def subjects_exist(self, c: dict) -> None:
        for key in ("la", "school", "subject"):
            sid = c.get(key)
            if sid is None or sid == "dcsf" or c["cmd"] in ("la.register", "school.nominate"):
                continue
            assert sid in self.las or sid in self.schools, f"unknown subject {sid}"
            start = self.las.get(sid) or self.schools[sid]["on"]
            assert c["on"] >= start, f"{sid} dated before it exists"
            withdrawn = self.schools.get(sid, {}).get("withdrawn")
            assert withdrawn is None or c["on"] <= withdrawn, f"{sid} acts after withdrawal"

    def once(self, c: dict) -> None:
        if c["cmd"].startswith(("school.", "la.", "dcsf.")) and c["cmd"] not in (
                "la.coordinator_appointed", "school.lead_appointed", "dcsf.extension_granted",
                "dcsf.obligation_waived"):
            key = (c["cmd"], *(c.get(k) for k in ("la", "school", "subject", "round", "purpose",
                                                  "event", "term")))
            if c["cmd"] == "dcsf.report_published":
                key += (c["report"],)
            assert key not in self.facts, "duplicate"
            self.facts.add(key)

    def stage(self, c: dict, role: str, before: str, after: str) -> None:
        s = self.schools[c["school"]]
        assert s["role"] == role and s["stage"] == before, f"stage {s['stage']}"
        self.step(s, c["on"])
        s["stage"] = after

    @staticmethod
    def step(s: dict, on: str) -> None:
        assert on >= s["last"], "lifecycle step dated before the previous one"
        s["last"] = on

    def la_register(self, c: dict) -> None:
        assert c["la"] not in self.las
        self.las[c["la"]] = c["on"]

    def active(self, la: str, role: str, on: str) -> int:
        return sum(1 for s in self.schools.values() if s["la"] == la and s["role"] == role
                   and s["on"] <= on and s["withdrawn"] is None)

    def school_nominate(self, c: dict) -> None:
        assert c["la"] in self.las and c["on"] >= self.las[c["la"]]
        assert c["school"] not in self.schools
        limit = 4 if c["role"] == "trial" else 1
        assert self.active(c["la"], c["role"], c["on"]) < limit, "cluster full"
        self.schools[c["school"]] = {"la": c["la"], "role": c["role"], "on": c["on"],
                                     "stage": "nominated", "last": c["on"], "withdrawn": None,
                                     "account": None, "plan": None}

    def la_nomination_form_returned(self, c: dict) -> None:
        assert self.active(c["la"], "trial", c["on"]) == 4
        assert self.active(c["la"], "partner", c["on"]) == 1

    def school_withdrawn(self, c: dict) -> None:
        s = self.schools[c["school"]]
        assert s["stage"] != "account_closed" and s["withdrawn"] is None
        self.step(s, c["on"])
        s["withdrawn"] = c["on"]

    def school_baselined(self, c: dict) -> None:
        self.stage(c, "trial", "nominated", "baselined")

    def school_plan_submitted(self, c: dict) -> None:
        self.stage(c, "trial", "baselined", "planned")
        self.schools[c["school"]]["plan"] = c["on"]

    def school_partner_plan_agreed(self, c: dict) -> None:
        self.stage(c, "partner", "nominated", "planned")

    def school_interim_report_submitted(self, c: dict) -> None:
        self.stage(c, "trial", "planned", "interim_submitted")

    def school_final_report_submitted(self, c: dict) -> None:
        self.stage(c, "trial", "interim_submitted", "final_submitted")

    def school_financial_account_submitted(self, c: dict) -> None:
        s = self.schools[c["school"]]
        assert s["stage"] in ("planned", "interim_submitted", "final_submitted")
        self.step(s, c["on"])
        s["account"] = c["on"]

    def la_financial_account_submitted(self, c: dict) -> None:
        self.la_account[c["la"]] = c["on"]

    def dcsf_account_closed(self, c: dict) -> None:
        sid = c["subject"]
        assert sid not in self.closed
        self.closed.add(sid)
        if sid in self.las:
            assert self.la_account.get(sid, "9999") <= c["on"], "LA account not submitted"
            return
        s = self.schools[sid]
        assert s["account"] is not None and s["account"] <= c["on"], "account not submitted"
        ready = "final_submitted" if s["role"] == "trial" else "planned"
        assert s["stage"] == ready, f"closing at {s['stage']}"
        self.step(s, c["on"])
        s["stage"] = "account_closed"

    def trial_only(self, c: dict) -> None:
        assert self.schools[c["school"]]["role"] == "trial"

    school_surveys_completed = school_case_study_submitted = trial_only
    school_attainment_data_submitted = dcsf_ssa_visit_held = trial_only

    def la_visit_recorded(self, c: dict) -> None:
        s = self.schools[c["school"]]
        assert s["role"] == "trial" and s["la"] == c["la"]

    def dcsf_plan_feedback_given(self, c: dict) -> None:
        plan = self.schools[c["school"]]["plan"]
        assert plan is not None and plan <= c["on"]

    def applies(self, obligation: str, subject: str) -> bool:
        if obligation.startswith("dcsf.") and not obligation.startswith("dcsf.ssa_visit"):
            return subject == "dcsf"
        if obligation.startswith("la.") and not obligation.startswith("la.visit"):
            return subject in self.las
        role = self.schools[subject]["role"]
        return obligation in FOR_ALL_SCHOOLS or (role == "partner") == (
            obligation == "school.partner_plan")

    def dcsf_extension_granted(self, c: dict) -> None:
        key = (c["obligation"], c["subject"])
        assert self.applies(*key) and key not in self.discharged, f"{key} extended after the fact"
        in_force = self.dues.get(key, DUE[c["obligation"]])
        assert c["due"] > in_force, f"{key} extended to {c['due']}, not after {in_force}"
        self.dues[key] = c["due"]

    def dcsf_obligation_waived(self, c: dict) -> None:
        key = (c["obligation"], c["subject"])
        assert self.applies(*key) and key not in self.discharged, f"{key} already discharged"
        self.waived.add(key)
