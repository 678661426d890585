"""Contracts for browser sessions and failed sign-ins (ADR 0077). No secret is ever in them."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class SessionRead(BaseModel):
    """A browser session as its owner and admins see it (never the cookie's secret)."""

    id: uuid.UUID
    user_name: str
    created_at: datetime
    last_seen_at: datetime = Field(description="Updated at most once a minute.")
    address: str | None = Field(description="The address the session signed in from.")
    user_agent: str = Field(description="The browser's User-Agent when it signed in.")
    revoked_at: datetime | None
    active: bool = Field(description="Whether it still lets its browser in.")
    current: bool = Field(default=False, description="The session of the browser asking.")


class FailedSignIn(BaseModel):
    """One refused sign-in, from ``user.sign_in_failed``."""

    seq: int
    at: datetime
    name: str | None = Field(description="The account tried; null when no such user exists.")
    method: str
    address: str | None
    rate_limited: bool


class AccountAttempts(BaseModel):
    """The recent failed sign-ins of one account (``name`` null: names of no user)."""

    name: str | None
    count: int
    last_at: datetime
    addresses: list[str] = Field(description="The addresses tried from, most recent first.")


class SignInAttempts(BaseModel):
    """Recent failed sign-ins, per account and one by one (newest first)."""

    accounts: list[AccountAttempts]
    recent: list[FailedSignIn]
