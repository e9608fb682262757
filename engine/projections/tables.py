"""The read model's tables (SQLAlchemy Core). Queries read only these.

They hold each subject, its lifecycle stage history, and every obligation instance with the dated
facts its status needs (status as of any day is then a pure function, see engine.obligations).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

tracking = Table(
    "em_tracking", metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

subjects = Table(
    "em_subjects", metadata,
    Column("subject", String(64), primary_key=True),
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # programme | la | school
    Column("role", String(16)),  # trial | partner (schools)
    Column("la", String(64)),
    Column("name", String(200), nullable=False),
    Column("contact", String(200)),
    Column("registered_on", Date),
    Column("withdrawn_on", Date),
    Column("seq", BigInteger, nullable=False),  # position of its registration in the log
)

stages = Table(
    "em_stages", metadata,
    Column("subject", String(64), nullable=False, index=True),
    Column("on", Date, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("position", BigInteger, nullable=False),
)

instances = Table(
    "em_instances", metadata,
    Column("obligation", String(64), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("responsible", String(16), nullable=False),
    Column("la", String(64)),
    Column("kind", String(16), nullable=False),  # deliverable | attendance
    Column("opens", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("exists_from", Date),  # NULL: always (the programme's own)
    Column("discharged_on", Date),
    Column("discharged_by", String(200)),
    Column("waived_on", Date),
    Column("withdrawn_on", Date),
    Column("extended", Integer, nullable=False, default=0),
    Column("amended", Integer, nullable=False, default=0),  # has retracted discharges
    Column("ordinal", Integer, nullable=False),  # the obligation's place in the timeline
    Column("seq", BigInteger, nullable=False),  # the subject's registration position
    # Covers the filters of `overdue` and the reminder run (open on their day, due by then):
    # they read only matching rows however many instances have passed their due date.
    Index("em_instances_open", "due", "discharged_on", "waived_on", "withdrawn_on", "kind",
          "exists_from"),
    Index("em_instances_subject", "subject"),
)

extensions = Table(
    "em_extensions", metadata,
    Column("obligation", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("granted_on", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("by", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("em_extensions_instance", "obligation", "subject"),
)

retractions = Table(
    "em_retractions", metadata,
    Column("obligation", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("discharged_on", Date, nullable=False),
    Column("retracted_on", Date, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("em_retractions_instance", "obligation", "subject"),
)

people = Table(
    "em_people", metadata,
    Column("subject", String(64), nullable=False, index=True),
    Column("post", String(16), nullable=False),  # lead | coordinator
    Column("on", Date, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
)

funding = Table(
    "em_funding", metadata,
    Column("subject", String(64), nullable=False, index=True),
    Column("source", String(16), nullable=False),  # plan | statement | account
    Column("on", Date, nullable=False),
    Column("item", String(200), nullable=False),
    Column("amount", String(16), nullable=False),  # exact pounds.pence
    Column("position", BigInteger, nullable=False),
)

surveys = Table(
    "em_surveys", metadata,
    Column("subject", String(64), nullable=False, index=True),
    Column("round", String(16), nullable=False),  # baseline | autumn | spring
    Column("on", Date, nullable=False),
    Column("pupil", JSON, nullable=False),
    Column("staff", JSON, nullable=False),
    Column("position", BigInteger, nullable=False),
)

users = Table(
    "em_users", metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("email", String(200), nullable=False),  # "[erased]" once forgotten
    Column("role", String(16), nullable=False),
    Column("la", String(64)),
    Column("revoked", Integer, nullable=False, default=0),
)

reminders = Table(
    "em_reminders", metadata,
    Column("key", String(200), primary_key=True),  # obligation|subject|kind|scheduled_for
    Column("aggregate_id", String(36), nullable=False, unique=True),
    Column("obligation", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("scheduled_for", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("run_on", Date, nullable=False),
    Column("to", JSON, nullable=False),
    Column("cc", JSON, nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("mail_subject", String(400), nullable=False),
    Column("status", String(16), nullable=False),  # held | pending | failed | delivered
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("position", BigInteger, nullable=False),
    Index("em_reminders_run_on", "run_on"),
    Index("em_reminders_status", "status"),
)

READ_MODEL = (subjects, stages, instances, extensions, retractions, people, funding, surveys,
              users, reminders)
