"""The metrics: the exposition format (checked with prometheus_client's own parser), access control of
``/metrics``, the HTTP counters and the database figures."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cluster.hashing import HashRouter
from cluster.jobs import DesignatedJobs
from cluster.routing import Node
from cluster.topology import Topology
from tests.conftest import Api
from tests.factories import World, case_payload
from tiaojie.metrics import CONTENT_TYPE, Counters, Family, Histogram, merge, render, with_label
from tiaojie.settings import Settings, load_settings
from web.app import create_app
from web.metrics_endpoint import check_access

TOKEN = "metrics-token-" + "m" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels, as Prometheus would read it."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and wanted <= set(ls)]
    assert found, f"no sample {name} {labels}"
    return sum(found)


# --- the format (pure) ---------------------------------------------------------------------------------


def test_render_escapes_and_parses() -> None:
    gauge = Family("tiaojie_test_gauge", "gauge", 'Help with a \\ backslash\nand a line "quoted".')
    gauge.add(3, {"name": 'a "quoted"\\ value\nwith a newline', "kind": "x"})
    gauge.add(math.inf, {"name": "inf", "kind": "y"})
    gauge.add(0.25)
    counter = Family("tiaojie_things_total", "counter", "Things.").add(7)
    text = render([gauge, counter])
    assert text.endswith("\n")
    samples = parse(text)
    assert (
        samples[("tiaojie_test_gauge", (("kind", "x"), ("name", 'a "quoted"\\ value\nwith a newline')))] == 3
    )
    assert samples[("tiaojie_test_gauge", (("kind", "y"), ("name", "inf")))] == math.inf
    assert samples[("tiaojie_test_gauge", ())] == 0.25
    assert samples[("tiaojie_things_total", ())] == 7
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["tiaojie_test_gauge"].documentation == 'Help with a \\ backslash\nand a line "quoted".'
    assert families["tiaojie_things"].type == "counter"


def test_bad_names_and_suffixes_are_refused() -> None:
    with pytest.raises(ValueError, match="metric name"):
        Family("has-dash", "gauge", "x")
    with pytest.raises(ValueError, match="label name"):
        Family("ok", "gauge", "x").add(1, {"bad-label": "v"})
    with pytest.raises(ValueError, match="no samples named"):
        Family("ok", "gauge", "x").add(1, suffix="_bucket")


def test_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram(("route",), (0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 2.0, 3.0):
        histogram.observe(("/a",), seconds)
    histogram.observe(("/b",), 0.01)
    samples = parse(render([histogram.family("tiaojie_h_seconds", "H.")]))
    assert value(samples, "tiaojie_h_seconds_bucket", route="/a", le="0.1") == 2  # 0.1 is in the 0.1 bucket
    assert value(samples, "tiaojie_h_seconds_bucket", route="/a", le="1.0") == 3
    assert value(samples, "tiaojie_h_seconds_bucket", route="/a", le="+Inf") == 5
    assert value(samples, "tiaojie_h_seconds_count", route="/a") == 5
    assert value(samples, "tiaojie_h_seconds_sum", route="/a") == pytest.approx(5.65)
    assert value(samples, "tiaojie_h_seconds_count", route="/b") == 1
    with pytest.raises(ValueError, match="increase"):
        Histogram(("x",), (1.0, 0.5))


def test_families_of_processes_merge_under_a_node_label_and_travel_as_json() -> None:
    def process(n: int) -> list[Family]:
        counters = Counters(("outcome",))
        counters.inc(("ok",), n)
        histogram = Histogram((), (1.0,))
        histogram.observe((), 0.5 * n)
        return [counters.family("tiaojie_x_total", "X."), histogram.family("tiaojie_y_seconds", "Y.")]

    travelled = [Family.from_json(f.to_json()) for f in process(2)]
    merged = merge(with_label(process(1), "node", "worker-0"), with_label(travelled, "node", "worker-1"))
    assert [f.name for f in merged] == ["tiaojie_x_total", "tiaojie_y_seconds"]
    text = render(merged)
    assert text.count("# TYPE tiaojie_x_total counter") == 1
    samples = parse(text)
    assert value(samples, "tiaojie_x_total", node="worker-0", outcome="ok") == 1
    assert value(samples, "tiaojie_x_total", node="worker-1", outcome="ok") == 2
    assert value(samples, "tiaojie_y_seconds_bucket", node="worker-1", le="+Inf") == 1
    with pytest.raises(ValueError, match="is a counter and a gauge"):
        merge([Family("tiaojie_z", "counter", "")], [Family("tiaojie_z", "gauge", "")])
    with pytest.raises(ValueError, match="not a metric family"):
        Family.from_json({"name": "tiaojie_z"})


# --- access --------------------------------------------------------------------------------------------


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return load_settings({}, overrides={"data_dir": tmp_path, "secret_key": "s" * 40, **extra})


@pytest.mark.parametrize(
    ("extra", "remote", "header", "code"),
    [
        ({}, "127.0.0.1", "", "metrics_disabled"),
        ({"metrics_token": TOKEN}, "127.0.0.1", "", "metrics_unauthorized"),
        ({"metrics_token": TOKEN}, "127.0.0.1", "Bearer wrong-token-wrong-token", "metrics_unauthorized"),
        ({"metrics_token": TOKEN}, "127.0.0.1", f"Basic {TOKEN}", "metrics_unauthorized"),
        ({"metrics_token": TOKEN}, "127.0.0.1", f"Bearer {TOKEN}", None),
        ({"metrics_allowed_networks": "10.0.0.0/8"}, "10.1.2.3", "", None),
        ({"metrics_allowed_networks": "10.0.0.0/8"}, "::ffff:10.1.2.3", "", None),
        ({"metrics_allowed_networks": "10.0.0.0/8"}, "192.168.1.1", "", "metrics_forbidden"),
        ({"metrics_allowed_networks": "10.0.0.0/8"}, None, "", "metrics_forbidden"),
        (
            {"metrics_allowed_networks": "10.0.0.0/8", "metrics_token": TOKEN},
            "10.1.2.3",
            "",
            "metrics_unauthorized",
        ),
        (
            {"metrics_allowed_networks": "10.0.0.0/8", "metrics_token": TOKEN},
            "8.8.8.8",
            f"Bearer {TOKEN}",
            "metrics_forbidden",
        ),
    ],
)
def test_access_rules(
    tmp_path: Path, extra: dict[str, str], remote: str | None, header: str, code: str | None
) -> None:
    settings = _settings(tmp_path, **extra)
    if code is None:
        check_access(settings, remote, header)
        return
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the code is what matters
        check_access(settings, remote, header)
    assert getattr(caught.value, "code", None) == code


def test_bad_metrics_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="METRICS_ALLOWED_NETWORKS"):
        _settings(tmp_path, metrics_allowed_networks="not-a-network")
    with pytest.raises(Exception, match="METRICS_TOKEN"):
        _settings(tmp_path, metrics_token="short")


async def test_metrics_are_off_by_default(
    aiohttp_client: Any, settings: Settings, clock: Any, db: Any
) -> None:
    off = settings.model_copy(update={"metrics_token": None})
    assert not off.metrics_enabled
    client = await aiohttp_client(create_app(off, clock=clock, db=db, migrate=False, background=False))
    try:
        response = await client.get("/metrics", headers=AUTH)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "metrics_disabled"
        assert (await client.get("/metrics/node")).status == 404
    finally:
        await client.close()


# --- through the app -----------------------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN})


async def scrape(client: TestClient[Any, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == CONTENT_TYPE
    return parse(await response.text())


def _names(samples: Iterable[tuple[str, Any]]) -> set[str]:
    return {name for name, _ in samples}


async def test_scrape_needs_the_token_and_reads_every_family(client: TestClient[Any, Any]) -> None:
    refused = await client.get("/metrics")
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "metrics_unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    # Not reachable with another kind of credential, and the node endpoint wants the deployment's hop header.
    assert (await client.get("/metrics/node", headers=AUTH)).status == 404
    samples = await scrape(client)
    names = _names(samples)
    for expected in (
        "tiaojie_rooms_open",
        "tiaojie_participants",
        "tiaojie_media_forwarded_streams",
        "tiaojie_rtp_packets_forwarded_total",
        "tiaojie_rtp_bytes_forwarded_total",
        "tiaojie_recordings_active",
        "tiaojie_recorder_backlog_bytes",
        "tiaojie_recorder_frames_dropped_total",
        "tiaojie_webhook_deliveries",
        "tiaojie_webhook_oldest_pending_age_seconds",
        "tiaojie_webhook_attempts_total",
        "tiaojie_render_jobs",
        "tiaojie_http_requests_total",
        "tiaojie_http_request_duration_seconds_bucket",
        "tiaojie_build_info",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "tiaojie_metrics_node_up",
    ):
        assert expected in names, expected
    assert value(samples, "tiaojie_rooms_open", node="main") == 0
    assert value(samples, "tiaojie_metrics_node_up", node="main") == 1


async def test_http_requests_are_counted_by_route_and_status(
    client: TestClient[Any, Any], api: Api, world: World
) -> None:
    before = await scrape(client)
    route = "/api/v1/cases/{case_id}"
    case = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    for _ in range(3):
        await api.as_("court_a").get(f"/cases/{case['id']}", expect=200)
    await api.as_("court_b").get(f"/cases/{case['id']}", expect=404)
    await client.get("/no/such/page")
    after = await scrape(client)

    def count(samples: Any, **labels: str) -> float:
        try:
            return value(samples, "tiaojie_http_requests_total", **labels)
        except AssertionError:
            return 0

    assert (
        count(after, route=route, status="200", method="GET") - count(before, route=route, status="200") == 3
    )
    assert count(after, route=route, status="404") - count(before, route=route, status="404") == 1
    assert count(after, route="unmatched", status="404") >= 1
    assert value(after, "tiaojie_http_request_duration_seconds_count", route=route, method="GET") == 4
    # The raw path (with the case id) never becomes a label value.
    assert not any(case["id"] in str(labels) for _, labels in after)


async def test_a_worker_that_does_not_answer_shows_as_down(
    aiohttp_client: Any, settings: Settings, clock: Any, db: Any, tmp_path: Path
) -> None:
    me = Node("worker-0", f"unix:{tmp_path / 'w0.sock'}")
    gone = Node("worker-1", f"unix:{tmp_path / 'nobody-listens.sock'}")
    topo = Topology(HashRouter(me, [me, gone]), DesignatedJobs(True))
    client = await aiohttp_client(
        create_app(settings, clock=clock, db=db, migrate=False, background=False, topo=topo)
    )
    try:
        samples = await scrape(client)
    finally:
        await client.close()
    assert value(samples, "tiaojie_metrics_node_up", node="worker-0") == 1
    assert value(samples, "tiaojie_metrics_node_up", node="worker-1") == 0
    assert value(samples, "tiaojie_rooms_open", node="worker-0") == 0
    assert not [
        labels for _, labels in samples if ("node", "worker-1") in labels and _ != "tiaojie_metrics_node_up"
    ]
