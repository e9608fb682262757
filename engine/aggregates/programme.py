"""The programme itself (subject `dcsf`): the DCSF project office's own deliverables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.aggregates.base import Subject, subject_id

PROGRAMME = "dcsf"


class Programme(Subject):
    """The programme's aggregate; it exists from the start of time, created on first use."""

    class Opened(Subject.Registered):
        command = "dcsf.opened"

        def apply(self, programme: Programme) -> None:
            programme.start(PROGRAMME, dt.date.min)

    class InvitationsSent(Subject.Recorded):
        command = "dcsf.invitations_sent"

    class LaunchInvitationsSent(Subject.Recorded):
        command = "dcsf.launch_invitations_sent"

    class WebsiteLaunched(Subject.Recorded):
        command = "dcsf.website_launched"

    class EvaluationSupported(Subject.Recorded):
        command = "dcsf.evaluation_supported"

    class FindingsShared(Subject.Recorded):
        command = "dcsf.findings_shared"

    class EventHeld(Subject.Recorded):
        command, key_fields = "dcsf.event_held", ("event",)
        event: str

    class NewsletterSent(Subject.Recorded):
        command, key_fields = "dcsf.newsletter_sent", ("term",)
        term: str

    class ReportPublished(Subject.Recorded):
        command, key_fields = "dcsf.report_published", ("report",)
        report: str

    class PersonErased(Subject.Recorded):
        """A person's key was destroyed: their data in every event reads "[erased]"."""

        command, unique = "dcsf.person_erased", False
        person: str  # the pseudonymous reference, never the address

    @classmethod
    def open(cls, **meta: Any) -> Programme:
        return cls._create(cls.Opened, id=subject_id("programme", PROGRAMME), **meta)
