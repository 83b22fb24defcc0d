"""What the case services need from outside: the clock, the working-day calendar, file storage, limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from cases.calendar import WorkdayCalendar
from cases.deadlines import local_date
from store.files import FileStore
from tiaojie.clock import Clock

__all__ = ["CaseEnv"]


@dataclass(frozen=True, slots=True)
class CaseEnv:
    clock: Clock
    calendar: WorkdayCalendar
    files: FileStore
    warn_days: int = 3
    max_upload_bytes: int = 20 * 1024 * 1024
    material_types: tuple[str, ...] = ()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return local_date(self.clock.now())
