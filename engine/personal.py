"""Personal data in events, encrypted per person so that one person can be erased.

People's email addresses (and a person's name next to their email) are stored in events as
tokens `pii1:<person>:<ciphertext>`, encrypted with a key of that person's own (AES-GCM, with a
nonce derived from the value, so equal values give equal tokens). `forget` destroys the key:
the events stay byte for byte as they were (the audit chain still verifies), and every token of
that person reads as "[erased]" from then on (crypto-shredding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import JSONTranscoder
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine

ERASED = "[erased]"
PREFIX = "pii1:"
# Event fields that hold a person's address; `name` only beside an `email` (an appointment),
# since elsewhere it names a school or an LA.
ADDRESS_FIELDS = frozenset({"by", "recorded_by", "email", "contact", "to", "cc"})

CHUNK = 1000  # people per look-up (bound parameters per statement are limited)

metadata = MetaData()
keys = Table(
    "em_person_keys", metadata,
    Column("person", String(32), primary_key=True),
    Column("key", LargeBinary(32), nullable=False),
)


def person_of(email: str) -> str:
    """A person's pseudonymous reference: derived from their email address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class Keyring:
    """Per-person keys kept in the store (table em_person_keys)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._keys: dict[str, bytes | None] = {}

    def ensure(self, emails: Iterable[str], session: Any = None) -> None:
        """Create keys for the people who have none yet, before their events are encoded: in
        the caller's open transaction (`session`, so they are stored with the events; if it
        rolls back, the caller must `clear_cache()`), else in a transaction of their own."""
        wanted = sorted({person_of(e) for e in emails if e and e != ERASED} - {
            p for p, k in self._keys.items() if k is not None})
        if not wanted:
            return
        if session is not None:
            self._create(wanted, session)
            return
        with self.engine.begin() as conn:
            self._create(wanted, conn)

    def _create(self, people: list[str], conn: Any) -> None:
        for i in range(0, len(people), CHUNK):
            chunk = people[i:i + CHUNK]
            existing = {row.person: row.key for row in conn.execute(
                select(keys.c.person, keys.c.key).where(keys.c.person.in_(chunk)))}
            new = [{"person": p, "key": os.urandom(32)} for p in chunk if p not in existing]
            if new:
                conn.execute(insert(keys), new)
            self._keys.update(existing)
            self._keys.update((row["person"], row["key"]) for row in new)

    def clear_cache(self) -> None:
        """Forget every key held in memory (they are read again from the store as needed)."""
        self._keys.clear()

    def key(self, person: str) -> bytes | None:
        if person not in self._keys:
            self._load({person})
        return self._keys.get(person)

    def forget(self, email: str) -> bool:
        """Destroy a person's key; True if there was one."""
        person = person_of(email)
        with self.engine.begin() as conn:
            gone = conn.execute(keys.delete().where(keys.c.person == person)).rowcount
        self._keys[person] = None
        _decrypt.cache_clear()
        return bool(gone)

    def _load(self, people: set[str]) -> None:
        with self.engine.connect() as conn:
            found = dict(conn.execute(select(keys.c.person, keys.c.key)
                                      .where(keys.c.person.in_(people))).all())
        for person in people:
            self._keys[person] = found.get(person)


class PersonalDataTranscoder(JSONTranscoder):
    """Encrypts people's addresses (and appointees' names) on the way into the store and
    decrypts them on the way out ("[erased]" once the person's key is destroyed)."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self.keyring = keyring

    def encode(self, obj: Any) -> bytes:
        if isinstance(obj, dict):
            obj = self._protect(obj)
        return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        obj = super().decode(data)
        if isinstance(obj, dict):
            return self._reveal(obj)
        return obj

    def _protect(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        for field in personal_fields(state):
            value = state[field]
            if isinstance(value, list):
                out[field] = [self._seal(v, v) for v in value]
            elif isinstance(value, str):
                owner = state.get("email", value) if field == "name" else value
                out[field] = self._seal(owner, value)
        return out

    def _seal(self, owner: str, value: str) -> str:
        if not isinstance(value, str) or value == ERASED or value.startswith(PREFIX):
            return value
        person = person_of(owner)
        key = self.keyring.key(person)
        if key is None:
            self.keyring.ensure([owner])
            key = self.keyring.key(person)
        assert key is not None
        return _encrypt(person, key, value)

    def _reveal(self, state: dict[str, Any]) -> dict[str, Any]:
        for field in personal_fields(state):
            value = state[field]
            if isinstance(value, list):
                state[field] = [self._open(v) for v in value]
            else:
                state[field] = self._open(value)
        return state

    def _open(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        _, person, token = value.split(":", 2)
        key = self.keyring.key(person)
        return ERASED if key is None else _decrypt(key, person, token)


def personal_fields(state: dict[str, Any]) -> list[str]:
    fields = [f for f in ADDRESS_FIELDS if f in state]
    if "email" in state and "name" in state:
        fields.append("name")
    return fields


def people_in(events: Iterable[Any]) -> set[str]:
    """Every address the events carry (whose owners need a key before they are stored)."""
    found: set[str] = set()
    for event in events:
        state = vars(event)
        for field in ADDRESS_FIELDS & state.keys():
            value = state[field]
            found.update(value if isinstance(value, list) else [value])
    return {v for v in found if isinstance(v, str)}


@lru_cache(maxsize=65536)
def _encrypt(person: str, key: bytes, value: str) -> str:
    data = value.encode()
    nonce = hmac.new(key, data, hashlib.sha256).digest()[:12]  # same value, same token
    sealed = AESGCM(key).encrypt(nonce, data, person.encode())
    return f"{PREFIX}{person}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


@lru_cache(maxsize=65536)
def _decrypt(key: bytes, person: str, token: str) -> str:
    raw = base64.urlsafe_b64decode(token)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], person.encode()).decode()
    except InvalidTag:
        return ERASED
