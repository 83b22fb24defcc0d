"""Webhooks to the court: an outbox written with every change, Standard Webhooks signing, and delivery.

- :mod:`webhooks.events` — the event types and the payloads (pure);
- :mod:`webhooks.signing` — ``whsec_`` secrets and ``webhook-signature`` values (pure);
- :mod:`webhooks.schedule` — retries: backoff with jitter, ``Retry-After``, what an answer means (pure);
- :mod:`webhooks.addresses` — which endpoint URLs and addresses are acceptable (pure);
- :mod:`webhooks.tables` — endpoints, the event outbox, deliveries and their attempts;
- :mod:`webhooks.outbox` — :func:`~webhooks.outbox.emit`, called inside the transaction of the change;
- :mod:`webhooks.endpoints` — registering, rotating, listing endpoints; the delivery log; catch-up;
- :mod:`webhooks.sender` — one HTTP attempt (no redirects, a timeout, only allowed addresses);
- :mod:`webhooks.worker` — the delivery worker (one per deployment, under a job lease).

Errors come from :mod:`tiaojie.errors` (``InvalidInput`` with a specific ``code`` for a refused endpoint URL,
``NotFound``, ``PermissionDenied``); a failed delivery attempt is not an exception but an
:class:`~webhooks.schedule.AttemptResult`, recorded in the delivery log.
"""
