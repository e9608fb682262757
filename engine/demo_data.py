"""Deterministic demo data: a realistic Extra Mile programme as import commands.

`generate(las, seed)` plays the 2009-10 programme (PROGRAMME.md) for `las` local authorities: DCSF
deliverables, LA registration and nominations, every school's lifecycle, visits, events, accounts,
plus the office's extensions and waivers. Each party gets a seeded risk profile that decides which
submissions are on time, late or missing; one trial school in a few LAs withdraws in Nov/Dec 2009
and is replaced. Commands are built in causal order and then sorted stably by date, so every line
is valid when imported in the returned order.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

Command = dict[str, Any]

OFFICE = "office@extramile.dcsf.test"
END = date(2010, 9, 30)
LAUNCH = date(2009, 7, 17)

_WINDOWS_TEXT = {
    "dcsf.confirm_participation": ("2009-06-01", "2009-06-30"),
    "dcsf.launch_invitations": ("2009-06-01", "2009-06-30"),
    "dcsf.newsletter.autumn": ("2009-09-01", "2009-09-30"),
    "dcsf.website": ("2009-09-01", "2009-09-30"),
    "dcsf.ssa_visit.1": ("2009-10-01", "2009-10-31"),
    "dcsf.newsletter.spring": ("2010-01-01", "2010-01-31"),
    "dcsf.interim_report": ("2010-01-01", "2010-01-31"),
    "dcsf.ssa_visit.2": ("2010-04-01", "2010-04-30"),
    "dcsf.newsletter.summer": ("2010-05-01", "2010-05-31"),
    "dcsf.final_report": ("2010-07-01", "2010-07-31"),
    "dcsf.evaluation_support": ("2010-07-01", "2010-07-31"),
    "dcsf.findings": ("2010-08-01", "2010-08-31"),
    "la.launch_registration": ("2009-06-01", "2009-06-30"),
    "la.coordinator": ("2009-07-01", "2009-09-30"),
    "la.visit.plan_support": ("2009-09-01", "2009-09-30"),
    "la.funding_statement": ("2009-10-01", "2009-10-31"),
    "la.networking.1": ("2009-11-01", "2009-11-30"),
    "la.visit.spring": ("2010-01-01", "2010-01-31"),
    "la.networking.2": ("2010-03-01", "2010-03-31"),
    "la.visit.summer": ("2010-05-01", "2010-05-31"),
    "la.networking.3": ("2010-06-01", "2010-06-30"),
    "la.financial_account": ("2010-07-01", "2010-07-31"),
    "school.launch_registration": ("2009-06-01", "2009-06-30"),
    "school.attend.launch": ("2009-07-17", "2009-07-17"),
    "school.lead": ("2009-06-01", "2009-09-30"),
    "school.baseline": ("2009-07-01", "2009-09-30"),
    "school.development_plan": ("2009-07-01", "2009-09-30"),
    "school.partner_plan": ("2009-07-01", "2009-10-31"),
    "school.surveys.autumn": ("2009-10-01", "2009-10-31"),
    "school.interim_report": ("2010-01-01", "2010-01-31"),
    "school.case_study.interim": ("2010-01-01", "2010-01-31"),
    "school.surveys.spring": ("2010-04-01", "2010-04-30"),
    "school.final_report": ("2010-06-01", "2010-06-30"),
    "school.case_study.final": ("2010-06-01", "2010-06-30"),
    "school.financial_account": ("2010-07-01", "2010-07-31"),
    "school.attainment_data": ("2010-08-01", "2010-08-31"),
}
WINDOWS: dict[str, tuple[date, date]] = {
    ob: (date.fromisoformat(a), date.fromisoformat(b)) for ob, (a, b) in _WINDOWS_TEXT.items()
}
# What a replacement trial school owes that fell due before it joined: extended (days after its
# nomination) or, for the rest, waived by the office.
_REPLACEMENT_EXTENSIONS = {
    "school.lead": (10, 20), "school.baseline": (30, 45), "school.development_plan": (50, 70),
}
_REPLACEMENT_WAIVABLE = (
    "school.launch_registration", "school.attend.launch", "la.visit.plan_support",
    "dcsf.ssa_visit.1", "school.surveys.autumn",
)

P_WITHDRAWAL = 0.25  # share of LAs losing a trial school mid-year
P_EXTENSION = 0.35  # a late submission gets an extension...
P_DOUBLE = 0.2  # ...granted twice
P_WAIVER = 0.6  # a missing deliverable is waived

_LA_NAMES = (
    "Sefton", "Luton", "Wigan", "Dudley", "Rotherham", "Walsall", "Knowsley", "Salford",
    "Hartlepool", "Plymouth", "Derby", "Halton", "Oldham", "Swindon", "Medway", "Lambeth",
)
_PLACES = (
    "Greenway", "Bramley", "Parkview", "Orchard", "Newlands", "Kingsmead", "Ivy Lane", "Northgate",
    "Juniper", "Hollybrook", "Meadowside", "Oakfield", "Riverside", "Westfield", "Ashgrove",
    "Brookside", "Highfield", "Woodlands", "Elmhurst", "Fernhill", "St Ambrose", "St Mary's",
    "Holy Trinity", "St Luke's",
)
_KINDS = (
    "Primary School", "Primary School", "Junior School", "CE Primary School",
    "Community Primary School", "Infant and Junior School",
)
_FIRST = ("Helen", "David", "Sarah", "Peter", "Anita", "James", "Ruth", "Imran", "Claire", "Tom")
_LAST = ("Baxter", "Okafor", "Hughes", "Patel", "Morgan", "Whitley", "Khan", "Doyle", "Price")
_TARGETS = (
    "Year 4 pupils eligible for free school meals with low speaking and listening scores",
    "Looked after children and FSM pupils in Year 5",
    "Year 6 boys at risk of not reaching level 4 in English",
    "Year 3 pupils with low attendance and low self-esteem",
)
_TEXTS = {
    "baseline_position": (
        "Attainment gap of 18 points in reading at KS1", "Low self-reported confidence (mean 4.8)",
        "Attendance of the target group 89% against 95% for the school",
    ),
    "leadership": (
        "Deputy head leads; working group of TA, learning mentor and parents",
        "Head teacher leads with the inclusion manager", "Assistant head for KS2 leads",
    ),
    "objectives": (
        "Raise aspirations and accelerate progress of the target group",
        "Help pupils articulate and manage their emotions", "Broaden pupils' horizons",
    ),
    "success_criteria": (
        "Two sub-levels progress for 80% of the target group", "Survey mean above 7 by April",
        "Attendance of the target group at 95%",
    ),
    "actions": (
        "Weekly speaking and listening groups; family learning sessions",
        "Nurture group, mentoring by Year 10 students and university visits",
        "Talk partners, drama workshops and a family reading club",
    ),
    "monitoring": ("Half-termly pupil progress meetings; surveys in October and April",),
    "timeline": ("September 2009 to July 2010", "October 2009 to June 2010"),
    "outcomes": (
        "Target pupils' survey scores rose; attainment gap narrowed", "Attendance up 3 points",
        "Most of the target group made two sub-levels progress",
    ),
    "context": (
        "Inner-city primary; 48% FSM; focus on speaking and listening",
        "Rural junior school; small target group of looked after children",
    ),
    "impact": (
        "Target group made accelerated progress in writing", "Fewer exclusions, better attendance",
    ),
    "support": (
        "Hosting visits and coaching for trial school leads", "Sharing its nurture group practice",
    ),
    "time": ("One day per half term", "Two afternoons a month"),
    "withdrawal": (
        "Headteacher left; governors withdrew from the trial", "School placed in special measures",
        "Amalgamation with the neighbouring infant school",
    ),
    "waiver": (
        "Agreed with the SSA: evidence gathered in another form",
        "Circumstances beyond the school's control",
    ),
}
_ITEMS = {
    "trial": (
        "Teaching assistant hours", "Family learning materials", "Visits and visitors",
        "Supply cover", "Mentoring sessions",
    ),
    "partner": ("Supply cover for coaching", "Resources", "Hosting visits"),
    "la": ("Cluster networking cover", "Coordinator time", "Cluster events"),
}
_ALLOCATION_POUNDS = {"trial": 5000, "partner": 3000, "la": 7000}
_SCORES = range(1, 11)
_POOL = 512  # distinct survey rows per (width, mood): cheap to draw from at benchmark scale
_CUM_WEIGHTS = {  # cumulative weights of answers 1..10; later rounds answer more positively
    "before": (2, 6, 14, 25, 38, 51, 62, 72, 80, 85),
    "after": (1, 3, 7, 13, 22, 34, 49, 65, 78, 88),
}


def _money(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count)))


def _clamp(day: date, lo: date, hi: date) -> date:
    return min(max(day, lo), hi)


def _current(appointments: list[tuple[date, str]], on: date, default: str) -> str:
    """The email of the latest appointment made on or before `on`, else `default`."""
    email = default
    for since, person in appointments:
        if since <= on:
            email = person
    return email


@dataclass
class _Risk:
    """How likely a party is to submit late or not at all."""

    late: float
    miss: float


@dataclass
class _La:
    lid: str
    registered: date
    coordinators: list[tuple[date, str]] = field(default_factory=list)

    @property
    def contact(self) -> str:
        return f"extramile@{self.lid.lower()}.gov.test"

    def by(self, on: date) -> str:
        """Who acts for the LA on a day: its coordinator once appointed, else its contact."""
        return _current(self.coordinators, on, self.contact)


@dataclass
class _School:
    sid: str
    la: _La
    role: str
    nominated: date
    start: date  # first day the school itself acts (the office acts first for a replacement)
    dues: dict[str, date] = field(default_factory=dict)  # extended due dates granted up front
    waived: frozenset[str] = frozenset()
    leads: list[tuple[date, str]] = field(default_factory=list)

    def by(self, on: date) -> str:
        """Who submits for the school on a day: its project lead once appointed, else the head."""
        return _current(self.leads, on, f"head@{self.sid.lower()}.school.test")


class _Generator:
    """Builds the command list; one instance per `generate` call."""

    def __init__(self, las: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.las = las
        self.out: list[Command] = []
        self.events: dict[str, date] = {"launch_conference": LAUNCH}
        self.withdrawing = self._choose_withdrawals()
        self.widths = {
            "LA": _width(las, 2), "T": _width(4 * las, 3), "P": _width(las, 3),
            "R": _width(len(self.withdrawing), 3),
        }
        self.counts = {"T": 0, "P": 0, "R": 0}
        self.row_pools: dict[tuple[int, str], list[tuple[int, ...]]] = {}

    def _choose_withdrawals(self) -> set[int]:
        chosen = {i for i in range(self.las) if self.rng.random() < P_WITHDRAWAL}
        return chosen or {self.rng.randrange(self.las)}

    def run(self) -> list[Command]:
        """Generate the whole programme, sorted stably by date."""
        self.programme()
        for index in range(self.las):
            self.local_authority(index)
        return sorted(self.out, key=itemgetter("on"))

    # -- primitives -------------------------------------------------------------------------

    def emit(self, out: list[Command], cmd: str, on: date, by: str, **fields: Any) -> None:
        out.append({"cmd": cmd, "on": on.isoformat(), "by": by, **fields})

    def days(self, lo: int, hi: int) -> timedelta:
        """A random span of lo..hi days (random() is cheaper than randint at benchmark scale)."""
        return timedelta(days=lo + int(self.rng.random() * (hi - lo + 1)))

    def pick(self, window: tuple[date, date], start: date, risk: _Risk) -> date | None:
        """The day a deliverable is discharged (None: never, or not before the data ends)."""
        rng = self.rng
        if risk.miss and rng.random() < risk.miss:
            return None
        opens, due = window
        lo = max(opens, start)
        if risk.late and rng.random() < risk.late:
            on = max(due, lo) + self.days(2, 40)
        elif lo > due:
            on = lo + self.days(0, 12)
        else:
            on = lo + self.days(0, (due - lo).days)
        return on if on <= END else None

    def deliver(self, out: list[Command], ob: str, subject: str, start: date, risk: _Risk,
                due: date | None = None, force_extensions: int = 0) -> date | None:
        """The day `ob` is discharged (None: never); late ones may be extended, missing waived."""
        opens, default_due = WINDOWS[ob]
        due = due or default_due
        on = self.pick((opens, due), start, risk)
        if on is None:
            self.maybe_waive(out, ob, subject, max(due, start))
        elif on > due:
            self.maybe_extend(out, ob, subject, start, due, on, force_extensions)
        return on

    def office_deliver(self, ob: str, start: date, risk: _Risk) -> date | None:
        """A DCSF deliverable: the office neither extends nor waives its own work."""
        return self.pick(WINDOWS[ob], start, risk)

    def maybe_waive(self, out: list[Command], ob: str, subject: str, after: date) -> None:
        if self.rng.random() < P_WAIVER:
            self.waive(out, ob, subject, after + self.days(3, 40))

    def waive(self, out: list[Command], ob: str, subject: str, on: date) -> None:
        if on <= END:
            reason = self.rng.choice(_TEXTS["waiver"])
            self.emit(out, "dcsf.obligation_waived", on, OFFICE, obligation=ob, subject=subject,
                      reason=reason)

    def extend(self, out: list[Command], ob: str, subject: str, on: date, due: date) -> None:
        self.emit(out, "dcsf.extension_granted", on, OFFICE, obligation=ob, subject=subject,
                  due=due.isoformat())

    def maybe_extend(self, out: list[Command], ob: str, subject: str, start: date, due: date,
                     on: date, force: int = 0) -> None:
        """Grant an extension (sometimes two) for a submission made late on `on`."""
        rng = self.rng
        times = force
        if not times and rng.random() < P_EXTENSION:
            times = 2 if rng.random() < P_DOUBLE else 1
        if times == 2 and (on - start).days >= 2 and (on - due).days >= 2:
            first = _clamp(due - self.days(0, 6), start, on - timedelta(days=2))
            first_due = due + timedelta(days=max(1, (on - due).days // 2))
            self.extend(out, ob, subject, first, first_due)
            second = _clamp(first_due - self.days(0, 3), first + timedelta(days=1),
                            on - timedelta(days=1))
            self.extend(out, ob, subject, second, on + self.days(0, 7))
        elif times and on > start:
            granted = _clamp(due + self.days(-7, 5), start, on - timedelta(days=1))
            if rng.random() < 0.25 and (on - due).days >= 2:  # still late after the extension
                new_due = due + self.days(1, (on - due).days - 1)
            else:
                new_due = on + self.days(0, 7)
            self.extend(out, ob, subject, granted, new_due)

    def risk(self) -> _Risk:
        """A party's profile: mostly diligent, some typical, a few struggling."""
        roll = self.rng.random()
        if roll < 0.5:
            return _Risk(0.04, 0.01)
        return _Risk(0.12, 0.03) if roll < 0.85 else _Risk(0.35, 0.08)

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def school_name(self) -> str:
        return f"{self.rng.choice(_PLACES)} {self.rng.choice(_KINDS)}"

    def next_id(self, prefix: str) -> str:
        self.counts[prefix] += 1
        return f"{prefix}{self.counts[prefix]:0{self.widths[prefix]}d}"

    def lines(self, kind: str) -> list[dict[str, str]]:
        """Plan or statement funding lines in whole £5s, totalling 76-100% of the allocation."""
        units = _ALLOCATION_POUNDS[kind] // 5
        total = self.rng.randint(units * 76 // 100, units)
        items = self.rng.sample(_ITEMS[kind], self.rng.randint(2, len(_ITEMS[kind])))
        cuts = sorted(self.rng.sample(range(1, total), len(items) - 1))
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        return [{"item": i, "amount": _money(s * 500)} for i, s in zip(items, shares, strict=True)]

    def spent(self, planned: list[dict[str, str]]) -> list[dict[str, str]]:
        """Account lines: each planned line give or take, to the penny (may exceed the plan)."""
        lines = []
        for line in planned:
            pence = int(line["amount"].replace(".", ""))
            lines.append({"item": line["item"],
                          "amount": _money(pence * self.rng.randint(800, 1120) // 1000)})
        return lines

    def rows(self, count: int, width: int, mood: str) -> list[list[int]]:
        """`count` survey rows of `width` answers 1..10, drawn from a seeded pool of rows."""
        pool = self.row_pools.get((width, mood))
        if pool is None:
            flat = self.rng.choices(_SCORES, cum_weights=_CUM_WEIGHTS[mood], k=_POOL * width)
            pool = [tuple(flat[i:i + width]) for i in range(0, _POOL * width, width)]
            self.row_pools[(width, mood)] = pool
        return [list(row) for row in self.rng.choices(pool, k=count)]

    def text(self, key: str) -> str:
        return self.rng.choice(_TEXTS[key])

    def close_account(self, out: list[Command], subject: str, submitted: date | None) -> None:
        """The office reviews and closes an account, usually within its 28 days."""
        if submitted is None:
            return
        late = self.rng.random() < 0.1
        on = submitted + (self.days(29, 60) if late else self.days(2, 28))
        if on <= END:
            self.emit(out, "dcsf.account_closed", on, OFFICE, subject=subject)

    # -- the programme office -----------------------------------------------------------------

    def programme(self) -> None:
        """DCSF's own deliverables and the national events' dates."""
        rng, out = self.rng, self.out
        self.emit(out, "dcsf.invitations_sent", date(2009, 5, 1) + self.days(0, 6), OFFICE)
        self.events["national_networking"] = date(2010, 1, 12) + self.days(0, 16)
        self.events["celebration"] = date(2010, 7, 8) + self.days(0, 16)
        plain = [("dcsf.launch_invitations", "dcsf.launch_invitations_sent", {}),
                 ("dcsf.newsletter.autumn", "dcsf.newsletter_sent", {"term": "autumn"}),
                 ("dcsf.website", "dcsf.website_launched", {}),
                 ("dcsf.newsletter.spring", "dcsf.newsletter_sent", {"term": "spring"}),
                 ("dcsf.interim_report", "dcsf.report_published", {"report": "interim"}),
                 ("dcsf.newsletter.summer", "dcsf.newsletter_sent", {"term": "summer"}),
                 ("dcsf.final_report", "dcsf.report_published", {"report": "final"}),
                 ("dcsf.evaluation_support", "dcsf.evaluation_supported", {}),
                 ("dcsf.findings", "dcsf.findings_shared", {})]
        for event, on in self.events.items():
            self.emit(out, "dcsf.event_held", on, OFFICE, event=event)
        for ob, cmd, fields in plain:
            if ob == "dcsf.evaluation_support" and rng.random() < 0.35:  # as in the sample
                self.waive(out, ob, "dcsf", date(2010, 7, 5) + self.days(0, 20))
                continue
            on = self.office_deliver(ob, WINDOWS[ob][0], _Risk(0.2, 0.0))
            if on is not None:
                self.emit(out, cmd, on, OFFICE, **fields)

    # -- local authorities --------------------------------------------------------------------

    def local_authority(self, index: int) -> None:
        """One LA: registration, its cluster's nominations, its obligations, then its schools."""
        rng = self.rng
        lid = f"LA{index + 1:0{self.widths['LA']}d}"
        la = _La(lid, self.registration_day())
        base = _LA_NAMES[index % len(_LA_NAMES)]
        name = base if index < len(_LA_NAMES) else f"{base} {index // len(_LA_NAMES) + 1}"
        self.emit(self.out, "la.register", la.registered, OFFICE, la=lid, name=name,
                  contact=la.contact)
        schools = self.nominations(la)
        risk = self.risk()
        self.la_obligations(la, risk)
        withdrawn = rng.randrange(4) if index in self.withdrawing else -1
        for position, school in enumerate(schools):
            if position == withdrawn:
                self.withdraw(school)
            elif school.role == "trial":
                self.trial_school(school, self.out)
            else:
                self.partner_school(school)

    def registration_day(self) -> date:
        """Most LAs register in May, after the invitations; a few only in June."""
        if self.rng.random() < 0.1:
            return date(2009, 6, 1) + self.days(0, 20)
        return date(2009, 5, 8) + self.days(0, 28)

    def nominations(self, la: _La) -> list[_School]:
        """Four trial schools and one partner, then the nomination form; participation confirmed."""
        rng = self.rng
        day = la.registered + self.days(3, 24)
        spread = rng.random() < 0.3
        schools = []
        for role in ("trial",) * 4 + ("partner",):
            on = max(la.registered, day - self.days(0, 6)) if spread else day
            sid = self.next_id("T" if role == "trial" else "P")
            self.emit(self.out, "school.nominate", on, la.contact, school=sid, la=la.lid, role=role,
                      name=self.school_name())
            schools.append(_School(sid, la, role, on, on))
        form = max(s.nominated for s in schools)
        form += self.days(1, 8) if rng.random() < 0.4 else timedelta()
        self.emit(self.out, "la.nomination_form_returned", form, la.contact, la=la.lid)
        confirmed = self.office_deliver("dcsf.confirm_participation", form + timedelta(days=1),
                                        _Risk(0.1, 0.02))
        if confirmed:
            self.emit(self.out, "dcsf.participation_confirmed", confirmed, OFFICE, la=la.lid)
        return schools

    def la_obligations(self, la: _La, risk: _Risk) -> None:
        """The LA's own deliverables and attendance, through to its closed account."""
        out, lid, start = self.out, la.lid, la.registered
        on = self.deliver(out, "la.launch_registration", lid, start, risk)
        if on:
            self.emit(out, "la.launch_registration_returned", on, la.contact, la=lid)
        self.appoint_coordinator(la, risk)
        self.attend(out, "la.attended", {"la": lid}, "launch_conference", la.by, start, risk)
        on = self.deliver(out, "la.funding_statement", lid, start, risk)
        if on:
            self.emit(out, "la.funding_statement_submitted", on, la.by(on), la=lid,
                      lines=self.lines("la"))
        for rnd in (1, 2, 3):
            on = self.deliver(out, f"la.networking.{rnd}", lid, start, risk)
            if on:
                self.emit(out, "la.networking_event_held", on, la.by(on), la=lid, round=rnd)
        self.attend(out, "la.attended", {"la": lid}, "national_networking", la.by, start, risk)
        self.attend(out, "la.attended", {"la": lid}, "celebration", la.by, start, risk)
        on = self.deliver(out, "la.financial_account", lid, start, risk)
        if on:
            self.emit(out, "la.financial_account_submitted", on, la.by(on), la=lid,
                      lines=self.spent(self.lines("la")))
        self.close_account(out, lid, on)

    def appoint_coordinator(self, la: _La, risk: _Risk) -> None:
        """Appoint the cluster coordinator; a few LAs replace theirs in the spring term."""
        on = self.deliver(self.out, "la.coordinator", la.lid, la.registered, risk)
        if on is None:
            return
        appointments = [(on, f"coordinator@{la.lid.lower()}.gov.test")]
        if self.rng.random() < 0.25:
            later = date(2010, 1, 4) + self.days(0, 100)
            appointments.append((later, f"cluster@{la.lid.lower()}.gov.test"))
        for day, email in appointments:
            self.emit(self.out, "la.coordinator_appointed", day, la.contact, la=la.lid,
                      name=self.person(), email=email)
            la.coordinators.append((day, email))

    def attend(self, out: list[Command], cmd: str, who: dict[str, str], event: str,
               by: Callable[[date], str], since: date, risk: _Risk) -> None:
        """Attend a national event on its day, unless missed (or not yet in the programme)."""
        on = self.events[event]
        if since <= on and self.rng.random() >= risk.miss + 0.01:
            self.emit(out, cmd, on, by(on), event=event, **who)

    # -- schools ------------------------------------------------------------------------------

    def common_school(self, s: _School, out: list[Command], risk: _Risk) -> None:
        """What every school owes: project lead, launch registration, national events."""
        self.appoint_lead(s, out, risk)
        if "school.launch_registration" not in s.waived:
            on = self.deliver(out, "school.launch_registration", s.sid, s.start, risk)
            if on:
                self.emit(out, "school.launch_registration_returned", on, s.by(on), school=s.sid)
        who = {"school": s.sid}
        for event in ("launch_conference", "national_networking", "celebration"):
            self.attend(out, "school.attended", who, event, s.by, s.start, risk)

    def appoint_lead(self, s: _School, out: list[Command], risk: _Risk) -> None:
        """Appoint the project lead; now and then a second one takes over later."""
        on = self.deliver(out, "school.lead", s.sid, s.start, risk, s.dues.get("school.lead"))
        if on is None:
            return
        head = f"head@{s.sid.lower()}.school.test"
        appointments = [(on, f"lead@{s.sid.lower()}.school.test")]
        if self.rng.random() < 0.2:
            appointments.append((on + self.days(60, 200), f"deputy@{s.sid.lower()}.school.test"))
        for day, email in appointments:
            if day <= END:
                self.emit(out, "school.lead_appointed", day, head, school=s.sid,
                          name=self.person(), email=email)
                s.leads.append((day, email))

    def partner_school(self, s: _School) -> None:
        """A partner school: plan of action agreed, account submitted and closed."""
        out, risk = self.out, self.risk()
        self.common_school(s, out, risk)
        plan = self.deliver(out, "school.partner_plan", s.sid, s.start, risk)
        planned = self.lines("partner")
        if plan:
            self.emit(out, "school.partner_plan_agreed", plan, s.by(plan), school=s.sid,
                      plan={"support": self.text("support"), "time": self.text("time"),
                            "funding": planned})
            self.account(s, out, risk, plan, planned, closable=True)

    def account(self, s: _School, out: list[Command], risk: _Risk, after: date,
                planned: list[dict[str, str]], closable: bool) -> None:
        on = self.deliver(out, "school.financial_account", s.sid, after, risk)
        if on:
            self.emit(out, "school.financial_account_submitted", on, s.by(on), school=s.sid,
                      lines=self.spent(planned))
            if closable:
                self.close_account(out, s.sid, on)

    def trial_school(self, s: _School, out: list[Command], force_extensions: int = 0) -> None:
        """A trial school's year, in lifecycle order: baseline, plan, interim, final, account."""
        risk = self.risk()
        self.common_school(s, out, risk)
        planned = self.baseline_and_plan(s, out, risk)
        if planned is None:
            return
        plan, funding = planned
        self.autumn(s, out, risk, plan)
        # A replacement school that joined late always needs its interim report extended.
        interim_risk = _Risk(1.0 if force_extensions else risk.late, 0.0)
        interim = self.report(s, out, interim_risk, plan, "interim", force_extensions)
        if interim is None:
            return
        self.spring(s, out, risk)
        final = self.report(s, out, _Risk(risk.late, risk.miss / 2), interim, "final")
        self.account(s, out, risk, final or interim, funding, closable=final is not None)
        on = self.deliver(out, "school.attainment_data", s.sid, s.start, risk)
        if on:
            data = {"ks2_english_l4_target_group_pct": self.rng.randint(30, 80),
                    "ks2_maths_l4_target_group_pct": self.rng.randint(30, 80)}
            self.emit(out, "school.attainment_data_submitted", on, s.by(on), school=s.sid,
                      data=data)

    def baseline_and_plan(self, s: _School, out: list[Command],
                          risk: _Risk) -> tuple[date, list[dict[str, str]]] | None:
        """Baseline (with the pupil survey), development plan, DCSF feedback on it."""
        no_miss = _Risk(risk.late, 0.0)
        base = self.deliver(out, "school.baseline", s.sid, s.start, no_miss,
                            s.dues.get("school.baseline"))
        if base is None:
            return None
        activity, size = self.rng.randint(1, 7), self.rng.randint(8, 30)
        self.emit(out, "school.baselined", base, s.by(base), school=s.sid, activity=activity,
                  target_group={"description": self.text_target(), "size": size},
                  pupil_survey=self.rows(min(size, self.rng.randint(6, 10)), 10, "before"))
        plan = self.deliver(out, "school.development_plan", s.sid, base, no_miss,
                            s.dues.get("school.development_plan"))
        if plan is None:
            return None
        funding = self.lines("trial")
        fields = {k: self.text(k) for k in ("baseline_position", "leadership", "objectives",
                                             "success_criteria", "actions", "monitoring",
                                             "timeline")}
        self.emit(out, "school.plan_submitted", plan, s.by(plan), school=s.sid,
                  plan={"activity": activity, "target_group": self.text_target(), **fields,
                        "funding": funding})
        feedback = plan + (self.days(15, 35) if self.rng.random() < 0.1 else self.days(1, 14))
        self.emit(out, "dcsf.plan_feedback_given", feedback, OFFICE, school=s.sid)
        return plan, funding

    def text_target(self) -> str:
        return self.rng.choice(_TARGETS)

    def visit(self, s: _School, out: list[Command], ob: str, purpose: str, risk: _Risk) -> None:
        if ob not in s.waived:
            on = self.deliver(out, ob, s.sid, s.start, risk)
            if on:
                self.emit(out, "la.visit_recorded", on, s.la.by(on), la=s.la.lid, school=s.sid,
                          purpose=purpose)

    def ssa_visit(self, s: _School, out: list[Command], rnd: int) -> None:
        ob = f"dcsf.ssa_visit.{rnd}"
        if ob not in s.waived:
            on = self.office_deliver(ob, s.start, _Risk(0.1, 0.03))
            if on:
                self.emit(out, "dcsf.ssa_visit_held", on, OFFICE, school=s.sid, round=rnd)

    def surveys(self, s: _School, out: list[Command], rnd: str, risk: _Risk, after: date) -> None:
        ob = f"school.surveys.{rnd}"
        if ob not in s.waived:
            on = self.deliver(out, ob, s.sid, after, risk)
            if on:
                mood = "before" if rnd == "autumn" else "after"
                self.emit(out, "school.surveys_completed", on, s.by(on), school=s.sid, round=rnd,
                          pupil=self.rows(self.rng.randint(6, 10), 10, mood),
                          staff=self.rows(self.rng.randint(4, 6), 12, mood))

    def autumn(self, s: _School, out: list[Command], risk: _Risk, plan: date) -> None:
        self.visit(s, out, "la.visit.plan_support", "plan_support", risk)
        self.ssa_visit(s, out, 1)
        self.surveys(s, out, "autumn", risk, plan)

    def spring(self, s: _School, out: list[Command], risk: _Risk) -> None:
        self.visit(s, out, "la.visit.spring", "spring_monitoring", risk)
        self.ssa_visit(s, out, 2)
        self.surveys(s, out, "spring", risk, s.start)
        self.visit(s, out, "la.visit.summer", "summer_monitoring", risk)

    def report(self, s: _School, out: list[Command], risk: _Risk, after: date, rnd: str,
               force_extensions: int = 0) -> date | None:
        """The interim or final report (a lifecycle step) and that round's case study."""
        on = self.deliver(out, f"school.{rnd}_report", s.sid, after, risk,
                          force_extensions=force_extensions)
        if on:
            report = {"objectives": self.text("objectives"),
                      "success_criteria": self.text("success_criteria"),
                      "actions_taken": self.text("actions"), "outcomes": self.text("outcomes")}
            self.emit(out, f"school.{rnd}_report_submitted", on, s.by(on), school=s.sid,
                      report=report)
        case = self.deliver(out, f"school.case_study.{rnd}", s.sid, s.start, risk)
        if case:
            study = {"context": self.text("context"), "actions": self.text("actions"),
                     "impact": self.text("impact")}
            self.emit(out, "school.case_study_submitted", case, s.by(case), school=s.sid,
                      round=rnd, case_study=study)
        return on

    # -- withdrawal and replacement -----------------------------------------------------------

    def withdraw(self, s: _School) -> None:
        """The school's year up to its withdrawal in Nov/Dec 2009, then a replacement."""
        withdrawn = date(2009, 11, 2) + self.days(0, 38)
        cutoff = withdrawn.isoformat()
        year: list[Command] = []
        self.trial_school(s, year)
        self.out.extend(c for c in year if c["on"] < cutoff)
        self.emit(self.out, "school.withdrawn", withdrawn, s.la.by(withdrawn), school=s.sid,
                  reason=self.text("withdrawal"))
        self.replace(s.la, withdrawn + self.days(5, 20))

    def replace(self, la: _La, nominated: date) -> None:
        """Nominate a replacement; the office waives what it missed and extends what it can do."""
        sid = self.next_id("R")
        self.emit(self.out, "school.nominate", nominated, la.by(nominated), school=sid, la=la.lid,
                  role="trial", name=self.school_name())
        office = nominated + self.days(1, 3)
        waived = frozenset(ob for ob in _REPLACEMENT_WAIVABLE if WINDOWS[ob][1] < office)
        for ob in sorted(waived):
            self.waive(self.out, ob, sid, office)
        dues = {}
        for ob, (lo, hi) in _REPLACEMENT_EXTENSIONS.items():
            dues[ob] = nominated + self.days(lo, hi)
            self.extend(self.out, ob, sid, office, dues[ob])
        school = _School(sid, la, "trial", nominated, office + timedelta(days=1), dues, waived)
        # The first replacement always needs two extensions for its interim report.
        forced = 2 if self.counts["R"] == 1 else self.rng.choice((1, 1, 2))
        self.trial_school(school, self.out, force_extensions=forced)


def generate(las: int = 9, seed: int = 2009) -> list[dict]:
    """A realistic Extra Mile programme as import commands (dicts in the import format), sorted
    by date.

    Deterministic for a given (`las`, `seed`); about 125 commands per LA, dated 2009-05-01 to
    2010-09-30, each valid under PROGRAMME.md when imported in the returned order.
    """
    if las < 1:
        raise ValueError(f"las must be at least 1, got {las}")
    return _Generator(las, seed).run()
