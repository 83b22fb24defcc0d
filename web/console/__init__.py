"""The web console for mediators, court and union users (zh-CN first, English second).

Server-rendered pages (jinja2, ``web/templates/console/``) with styles and a small script from
``web/static/``; no CDN, no external fonts. Modules:

- :mod:`~web.console.views` — the routes;
- :mod:`~web.console.login` — log in (with a login-CSRF token, :mod:`~web.console.login_token`) and out;
- :mod:`~web.console.inbox` — the user's cases by section;
- :mod:`~web.console.case_page` — one case and the forms to act on it;
- :mod:`~web.console.recording_list` — what the case page shows of the case's recordings;
- :mod:`~web.console.recording_actions` — verify, render, play and download a recording;
- :mod:`~web.console.statistics_page` — figures, trends, ranking and charts of the user's scope;
- :mod:`~web.console.pages` — rendering, language, error pages;
- :mod:`~web.console.i18n` — every string in both languages.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["setup_console"]


def setup_console(app: web.Application) -> None:
    from web.console.views import setup

    setup(app)
