"""Whose cases a caller's statistics cover, following :mod:`cases.access`.

A court sees its own cases; a union the cases held by its organisations (itself and every organisation
under it); a mediator the cases they hold; the system (the command line) everything. The operator (a
sysadmin in the console) sees no case data, so no statistics either. Filters narrow the scope further and
must stay inside it: a court, organisation or mediator the caller may not see does not exist for them
(404 ``not_found``, never 403), like a case.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.principal import Principal, PrincipalKind
from tiaojie.errors import NotFound, PermissionDenied

__all__ = ["Filters", "Scope", "scope_for"]

_K = PrincipalKind


@dataclass(frozen=True, slots=True)
class Filters:
    """What the caller asked to narrow to (ids as given; an organisation includes everything under it)."""

    court_id: str | None = None
    organisation_id: str | None = None
    mediator_id: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """The cases counted: those of these courts, held by these organisations and these mediators (None:
    no restriction on that column). ``mediator_of`` restricts mediators to those of these organisations
    (a union naming a mediator must own them), checked against the database by the loader."""

    court_ids: frozenset[str] | None = None
    organisation_ids: frozenset[str] | None = None
    mediator_ids: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.court_ids is None and self.organisation_ids is None and self.mediator_ids is None


def _not_found(what: str, field: str) -> NotFound:
    return NotFound(f"{what} not found", resource=what, field=field)


def scope_for(actor: Principal, filters: Filters, subtree: frozenset[str] | None = None) -> Scope:
    """The scope of ``actor`` narrowed by ``filters``. ``subtree`` is the organisation filter's subtree
    (the organisation and everything under it), read by the caller; None when no organisation is asked.

    Raises PermissionDenied for a caller that sees no cases, NotFound for a filter outside its scope. A
    mediator filter is checked here only for a mediator principal; the loader checks that a union's
    mediator belongs to one of its organisations (that needs the database).
    """
    if filters.organisation_id is not None and subtree is None:
        raise ValueError("an organisation filter needs its subtree")
    courts: frozenset[str] | None = None
    orgs: frozenset[str] | None = subtree
    mediators: frozenset[str] | None = None
    if filters.court_id is not None:
        courts = frozenset({filters.court_id})
    if filters.mediator_id is not None:
        mediators = frozenset({filters.mediator_id})
    if actor.kind is _K.SYSTEM:
        return Scope(courts, orgs, mediators)
    if actor.kind is _K.COURT and actor.court_id:
        if filters.court_id not in (None, actor.court_id):
            raise _not_found("court", "court_id")
        return Scope(frozenset({actor.court_id}), orgs, mediators)
    if actor.kind is _K.UNION and actor.organisation_ids:
        if filters.organisation_id is not None and filters.organisation_id not in actor.organisation_ids:
            raise _not_found("organisation", "org_id")
        own = actor.organisation_ids if orgs is None else orgs & actor.organisation_ids
        return Scope(courts, own, mediators)
    if actor.kind is _K.MEDIATOR and actor.mediator_id:
        if filters.mediator_id not in (None, actor.mediator_id):
            raise _not_found("mediator", "mediator_id")
        if filters.organisation_id is not None and filters.organisation_id not in actor.organisation_ids:
            raise _not_found("organisation", "org_id")
        return Scope(courts, orgs, frozenset({actor.mediator_id}))
    raise PermissionDenied("statistics are for courts, unions and mediators", code="no_statistics_access")
