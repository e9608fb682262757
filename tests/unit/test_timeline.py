"""`engine.timeline.check`: every problem of a timeline file is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.commands import VOCABULARY
from engine.timeline import DEFAULT_TIMELINE, Problem, TimelineError, check, load

GOOD = """\
programme: A test programme
starts: 2009-05-01
ends: 2010-09-30
office_email: office@extramile.dcsf.test
funding: {trial: "5000.00", partner: "3000.00", la: "7000.00"}
obligations:
  - id: la.nomination_form
    title: Return the nomination form
    responsible: la
    per: la
    opens: 2009-05-01
    due: 2009-06-30
    discharged_by: {command: la.nomination_form_returned}
    kind: deliverable
  - id: la.visit.plan_support
    title: Coordinator visit to support the plan
    responsible: la
    per: trial_school
    opens: 2009-09-01
    due: 2009-09-30
    discharged_by: {command: la.visit_recorded, match: {purpose: plan_support}}
    kind: deliverable
  - id: dcsf.plan_feedback
    title: Give feedback on the plan
    responsible: dcsf
    per: trial_school
    trigger: [school.plan_submitted]
    due_days: 14
    discharged_by: {command: dcsf.plan_feedback_given}
    kind: deliverable
"""


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """The 1-based number of the nth line containing `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return found[nth - 1]


def edit(old: str, new: str, nth: int = 1) -> str:
    """GOOD with the nth occurrence of `old` replaced by `new`."""
    at = -1
    for _ in range(nth):
        at = GOOD.index(old, at + 1)
    return GOOD[:at] + new + GOOD[at + len(old):]


def problems_of(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "timeline.yaml"
    path.write_text(text, encoding="utf-8")
    timeline, problems = check(path, VOCABULARY)
    assert (timeline is None) == bool(problems)
    return problems


def only_problem(tmp_path: Path, text: str) -> Problem:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


# --- clean files --------------------------------------------------------------------------------


def test_the_small_timeline_checks_clean(tmp_path):
    assert problems_of(tmp_path, GOOD) == []


def test_the_bundled_timeline_checks_clean():
    timeline, problems = check(DEFAULT_TIMELINE, VOCABULARY)
    assert problems == []
    assert timeline is not None and len(timeline.obligations) == 48


# --- one problem each, with its line --------------------------------------------------------------


def test_a_duplicate_id_is_reported_at_the_second_one(tmp_path):
    text = edit("id: la.visit.plan_support", "id: la.nomination_form")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "id: la.nomination_form", nth=2)
    assert "duplicate id" in problem.message
    assert "la.nomination_form" in problem.where


def test_opens_after_due_is_reported_at_opens(tmp_path):
    text = edit("opens: 2009-09-01", "opens: 2009-10-01")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "opens: 2009-10-01")
    assert "2009-10-01" in problem.message and "2009-09-30" in problem.message


def test_an_unknown_command_is_reported_at_discharged_by(tmp_path):
    text = edit("la.nomination_form_returned", "la.nomination_form_posted")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "la.nomination_form_posted")
    assert "unknown command" in problem.message and "la.nomination_form_posted" in problem.message


def test_an_unknown_match_field_is_reported_at_discharged_by(tmp_path):
    text = edit("match: {purpose: plan_support}", "match: {reason: plan_support}")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "match: {reason")
    assert "reason" in problem.message


def test_an_unknown_trigger_command_is_reported_at_trigger(tmp_path):
    text = edit("trigger: [school.plan_submitted]", "trigger: [school.plan_sent]")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "trigger:")
    assert "school.plan_sent" in problem.message


@pytest.mark.parametrize(("old", "new"), [
    ("responsible: dcsf", "responsible: foo"),
    ("per: trial_school", "per: foo"),
    ("kind: deliverable", "kind: foo"),
], ids=["responsible", "per", "kind"])
def test_an_unknown_party_or_kind_is_reported_at_its_line(tmp_path, old, new):
    text = edit(old, new)
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, new)
    assert "foo" in problem.message
    assert problem.where.endswith(new.split(":")[0])


@pytest.mark.parametrize(("old", "new"), [
    ("opens: 2009-05-01", "opens: 2009-04-30"),
    ("due: 2009-09-30", "due: 2010-10-01"),
], ids=["opens_before_start", "due_after_end"])
def test_a_date_outside_the_programme_is_reported_at_its_line(tmp_path, old, new):
    text = edit(old, new)
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, new)
    assert "outside the programme" in problem.message


def test_an_unknown_field_of_an_obligation_is_reported_at_its_line(tmp_path):
    text = edit("    kind: deliverable\n", "    kind: deliverable\n    colour: red\n", nth=2)
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "colour: red")
    assert problem.message == "unknown field"
    assert "colour" in problem.where


def test_an_unknown_top_level_field_is_reported_at_its_line(tmp_path):
    text = GOOD.replace("ends: 2010-09-30\n", "ends: 2010-09-30\nyear: 2009\n")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "year: 2009")
    assert problem.message == "unknown field"


def test_a_relative_obligation_with_fixed_dates_is_reported(tmp_path):
    text = edit("    due_days: 14\n", "    due_days: 14\n    opens: 2009-09-01\n")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "- id: dcsf.plan_feedback")
    assert "trigger and due_days" in problem.message


def test_broken_yaml_is_reported_at_its_line(tmp_path):
    text = edit("due: 2009-06-30", "due: 2009-06-30: soon")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "soon")
    assert "not valid YAML" in problem.message


def test_a_file_that_is_not_a_mapping_is_reported(tmp_path):
    problem = only_problem(tmp_path, "- just\n- a list\n")
    assert problem.line == 1


def test_a_missing_file_is_reported(tmp_path):
    timeline, problems = check(tmp_path / "nowhere.yaml", VOCABULARY)
    assert timeline is None
    assert len(problems) == 1 and "cannot read" in problems[0].message


# --- several problems at once; load -------------------------------------------------------------


def test_every_problem_is_reported_at_once(tmp_path):
    text = edit("id: la.visit.plan_support", "id: la.nomination_form")
    text = text.replace("opens: 2009-09-01", "opens: 2009-10-01")
    text = text.replace("la.nomination_form_returned", "la.nomination_form_posted")
    lines = sorted(p.line for p in problems_of(tmp_path, text))
    assert lines == sorted([line_of(text, "id: la.nomination_form", nth=2),
                            line_of(text, "opens: 2009-10-01"),
                            line_of(text, "la.nomination_form_posted")])


def test_a_problem_reads_as_file_line_where_message(tmp_path):
    text = edit("opens: 2009-09-01", "opens: 2009-10-01")
    problem = only_problem(tmp_path, text)
    path = tmp_path / "timeline.yaml"
    assert str(problem) == (f"{path}:{line_of(text, 'opens: 2009-10-01')}: "
                            "obligation la.visit.plan_support: opens 2009-10-01 after due "
                            "2009-09-30")


def test_load_refuses_a_file_with_problems(tmp_path):
    path = tmp_path / "timeline.yaml"
    path.write_text(edit("responsible: dcsf", "responsible: foo"), encoding="utf-8")
    with pytest.raises(TimelineError) as error:
        load(path, VOCABULARY)
    assert len(error.value.problems) == 1


def test_load_reads_a_clean_file(tmp_path):
    path = tmp_path / "timeline.yaml"
    path.write_text(GOOD, encoding="utf-8")
    loaded = load(path, VOCABULARY)
    assert [o.id for o in loaded.obligations] == [
        "la.nomination_form", "la.visit.plan_support", "dcsf.plan_feedback"]
