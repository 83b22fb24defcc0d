"""Tables of the accounts package."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base

__all__ = ["ApiKey", "Court", "Organisation", "User", "WebSession"]


class Court(Base):
    """A people's court: a basic court (委派) or an intermediate court (二审委托)."""

    __tablename__ = "courts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("courts.id"))
    region: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Organisation(Base):
    """A trade union (city or county legal department) or a mediation organisation under one."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    profile: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class User(Base):
    """A person who logs into the web console."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("(court_id IS NULL) OR (organisation_id IS NULL)", name="one_scope"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    court_id: Mapped[str | None] = mapped_column(ForeignKey("courts.id"))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"))
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ApiKey(Base):
    """A bearer key for a court's or a union's system. Only a hash of the secret is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("(court_id IS NULL) <> (organisation_id IS NULL)", name="exactly_one_scope"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    court_id: Mapped[str | None] = mapped_column(ForeignKey("courts.id"))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebSession(Base):
    """A console login. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)
