"""A whole session in three real Chromium pages: the mediator and two parties join from their own links.

The mediator admits both after an identity check, made in the mediator's panel; every page decodes the
others' video; a party shares a screen; the mediator opens a private sub-room with the applicant (caucus):
the respondent's page loses the applicant's and the mediator's media (and the server forwards none) and
shows the waiting state, and chat in the sub-room does not reach it; everyone is brought back and media
flows again; the mediator proposes recording, both parties consent in their dialog and everyone sees the
indicator; the app's real recorder records a few seconds of the three browsers and, once the mediator stops
it, the recording is complete and every browser's camera (VP8) and microphone (Opus) decode end to end; the
mediator keeps a transcript (an entry typed in, a chat message pulled in), puts it to review, a party
disputes it with a comment, the corrected version is confirmed by both parties and shows locked with its
hash; the mediator mutes, locks, removes someone with a reason, and ends the session for all. Last, in the
console, the mediator verifies the recording, has its playback file made (the progress bar follows the
render worker) and plays it in the page.
Screenshots of the key screens are written as test artifacts. How the browser tests run:
``tests/browser/harness.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    inside_namespace,
    require_browser,
    shoot,
)
from tests.browser.recorded import (
    console_recording,
    decode_recording,
    frames_grow,
    until_recordings,
)
from tests.signaling.test_room_protocol import scene  # noqa: F401
from web.app import SIGNALING
from web.services import SERVICES

pytestmark = pytest.mark.browser

# True once every named publisher's tile shows video whose decoded frame count went up since the last poll
# (window.__frames is reset before each wait).
FRAMES_ADVANCE = """([ids, screen]) => {
  window.__frames = window.__frames || {};
  let ok = true;
  for (const id of ids) {
    const kind = screen ? ".screen" : ":not(.screen)";
    const video = document.querySelector(`.tile.remote${kind}[data-publisher="${id}"] video`);
    if (!video || video.videoWidth === 0) { ok = false; continue; }
    const key = `${id}:${screen}`;
    const now = video.getVideoPlaybackQuality().totalVideoFrames;
    const before = window.__frames[key];
    window.__frames[key] = now;
    if (before === undefined || now <= before) ok = false;
  }
  return ok;
}"""


async def frames_advance(page: Any, ids: list[str], *, screen: bool = False) -> None:
    await page.evaluate("() => { window.__frames = {}; }")
    await page.wait_for_function(FRAMES_ADVANCE, arg=[ids, screen], polling=250, timeout=20_000)


@pytest.mark.timeout(120)
@inside_namespace
async def test_mediator_admits_two_parties_and_runs_a_caucus(
    scene: dict[str, Any],  # noqa: F811
    client: TestClient[Any, Any],
) -> None:
    require_browser()
    api: Any = importlib.import_module("playwright.async_api")
    expect = api.expect
    ids = scene["ids"]
    worker, employer, mediator_id = ids["worker"], ids["employer"], ids["mediator"]
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    logs: list[str] = []
    recorder = client.app[SIGNALING].recording  # the app's own Recorder, writing real files
    services = client.app[SERVICES]
    media_root = services.settings.effective_media_dir
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages: dict[str, Any] = {}
            for name in ("mediator", "worker", "employer"):
                context = await browser.new_context(viewport=DESKTOP)
                page = await context.new_page()
                page.on("console", lambda m, n=name: logs.append(f"{n} {m.type}: {m.text}"))
                page.on("pageerror", lambda e, n=name: logs.append(f"{n} pageerror: {e}"))
                pages[name] = page
            host, applicant, respondent = pages["mediator"], pages["worker"], pages["employer"]

            # The mediator: device check, then straight into the room with the panel.
            await host.goto(f"{scene['base']}/j#{scene['tokens']['mediator']}")
            await expect(host.locator("#check-continue")).to_be_enabled(timeout=10_000)
            await shoot(host, "device-check")
            await host.click("#check-continue")
            await expect(host.locator("#host-panel")).to_be_visible(timeout=10_000)
            await expect(host.locator("#lobby-empty")).to_be_visible()

            # Both parties: device check, lobby (consent and warning), waiting.
            for name, page in (("worker", applicant), ("employer", respondent)):
                await page.goto(f"{scene['base']}/j#{scene['tokens'][name]}")
                await expect(page.locator("#check-continue")).to_be_enabled(timeout=10_000)
                await page.click("#check-continue")
                await expect(page.locator("#screen-lobby")).to_be_visible(timeout=10_000)
                if name == "worker":
                    await shoot(page, "lobby")
                await page.get_by_label("同意在线调解").check()
                await page.get_by_label("我已知悉虚假调解的法律后果").check()
                await page.click("#lobby-submit")
                await expect(page.locator("#screen-waiting")).to_be_visible(timeout=10_000)
            await shoot(applicant, "waiting")
            timings["both waiting"] = time.monotonic() - t0

            # The mediator's lobby: both waiting, consent shown; admission needs a recorded identity check.
            lobby = host.locator("#lobby-list")
            for pid in (worker, employer):
                await expect(lobby.locator(f'li[data-id="{pid}"] .facts')).to_contain_text("已同意在线调解")
            await expect(host.locator("#lobby-count")).to_contain_text("2")
            await shoot(host, "mediator-lobby")
            row = lobby.locator(f'li[data-id="{worker}"]')
            await row.get_by_role("button", name="准许进入").click()
            await expect(row.locator(".message")).to_contain_text("核验")
            checks = ((worker, "id_card", "查验身份证件"), (employer, "credit_code", "统一社会信用代码"))
            for pid, method, text in checks:
                row = lobby.locator(f'li[data-id="{pid}"]')
                await row.get_by_label("核验方式").select_option(method)
                await row.get_by_role("button", name="记录核验结果").click()
                await expect(row.locator(".facts")).to_contain_text(f"身份已核验（{text}")
                await row.get_by_role("button", name="准许进入").click()
            await expect(host.locator("#lobby-empty")).to_be_visible(timeout=10_000)
            admitted = time.monotonic()

            # Every page decodes the other two's video; someone is highlighted as speaking (fake mic beeps).
            everyone = {"mediator": mediator_id, "worker": worker, "employer": employer}
            for name, page in pages.items():
                await expect(page.locator("#screen-room")).to_be_visible(timeout=10_000)
                await frames_advance(page, [pid for n, pid in everyone.items() if n != name])
            timings["all decoding after admission"] = time.monotonic() - admitted
            await expect(host.locator(".tile.speaking")).to_have_count(1, timeout=10_000)
            await expect(host.locator(f'.tile.remote[data-publisher="{worker}"] figcaption')).to_contain_text(
                "申请人"
            )
            await shoot(host, "session-mediator")
            await shoot(applicant, "session")

            # Screen share: an extra track by renegotiation; it reaches the others and goes away again.
            await applicant.click("#toggle-screen")
            await expect(applicant.locator("#own-screen")).to_be_visible(timeout=10_000)
            for page in (host, respondent):
                await frames_advance(page, [worker], screen=True)
            await shoot(respondent, "screen-share", phone=False)
            await applicant.click("#toggle-screen")
            for page in (host, respondent):
                await expect(page.locator(".tile.remote.screen")).to_have_count(0, timeout=10_000)
            await frames_advance(host, [worker])  # the camera goes on

            # Caucus: a private room with the applicant, opened and filled from the panel.
            await host.fill("#caucus-label", "与申请人背对背")
            await host.locator(f'#caucus-who input[value="{worker}"]').check()
            await host.get_by_role("button", name="开启单独房间").click()
            people = host.locator("#people-list")
            for pid in (worker, mediator_id):
                await expect(people.locator(f'li[data-id="{pid}"] .where')).to_have_text(
                    "与申请人背对背", timeout=10_000
                )
            await expect(people.locator(f'li[data-id="{employer}"] .where')).to_have_text("主会场")
            await expect(respondent.locator("#away-banner")).to_contain_text("背对背", timeout=10_000)
            await expect(respondent.locator(".tile.remote")).to_have_count(0, timeout=10_000)
            await expect(respondent.locator("#nobody")).to_be_visible()
            await expect(applicant.locator("#private-banner")).to_contain_text("与申请人背对背")
            await expect(applicant.locator(f'.tile.remote[data-publisher="{employer}"]')).to_have_count(0)
            await frames_advance(applicant, [mediator_id])
            media = client.app[SIGNALING].hub.rooms[scene["session_id"]].media
            assert media is not None
            cut = {pid: media.forwarded(pid, employer) for pid in (worker, mediator_id)}
            heard = media.forwarded(mediator_id, worker)

            # Chat inside the sub-room reaches the mediator, not the respondent.
            await applicant.fill("#chat-text", "只对调解员说")
            await applicant.click("#chat-form button")
            await expect(host.locator("#chat-log")).to_contain_text("只对调解员说", timeout=5_000)
            await respondent.fill("#chat-text", "我在主会场")
            await respondent.click("#chat-form button")
            await expect(respondent.locator("#chat-log")).to_contain_text("我在主会场", timeout=5_000)
            await expect(respondent.locator("#chat-log")).not_to_contain_text("只对调解员说")
            await shoot(respondent, "caucus-respondent")
            await shoot(applicant, "caucus-applicant")
            await shoot(host, "caucus-mediator")
            assert {pid: media.forwarded(pid, employer) for pid in cut} == cut
            assert media.forwarded(mediator_id, worker) > heard
            await expect(host.locator("#chat-log")).not_to_contain_text("我在主会场")

            # Everyone back: the banners go, media flows to the respondent again.
            await host.get_by_role("button", name="全部回到主会场").click()
            await expect(respondent.locator("#away-banner")).to_be_hidden(timeout=10_000)
            await expect(applicant.locator("#private-banner")).to_be_hidden(timeout=10_000)
            back = time.monotonic()
            await frames_advance(respondent, [worker, mediator_id])
            timings["respondent decoding again after the caucus"] = time.monotonic() - back
            assert all(media.forwarded(pid, employer) > cut[pid] for pid in cut)

            # Recording: the mediator proposes; each party consents in their own dialog; everyone sees it.
            consent_started = time.monotonic()
            main_part = host.locator('#recording-parts li[data-part="main"]')
            await main_part.get_by_role("button", name="提议录音录像").click()
            await expect(main_part).to_have_attribute("data-state", "proposed", timeout=10_000)
            for page in (applicant, respondent):
                await expect(page.locator("#recording-dialog")).to_be_visible(timeout=10_000)
                await expect(page.locator("#recording-dialog")).to_contain_text("您可以拒绝")
            await shoot(applicant, "recording-consent")
            await expect(host.locator("#recording")).to_be_hidden()  # nothing is recorded before all agree
            for page in (applicant, respondent):
                await page.click("#recording-consent")
                await expect(page.locator("#recording-dialog")).to_be_hidden(timeout=10_000)
            for page in pages.values():
                await expect(page.locator("#recording")).to_be_visible(timeout=10_000)
                await expect(page.locator("#recording")).to_have_text("● 正在录音录像")
            await expect(main_part).to_have_attribute("data-state", "recording")
            [recording] = await until_recordings(services, scene["session_id"], "recording")
            assert recorder.active(scene["session_id"]) == {"main": recording.id}
            await shoot(applicant, "recording-indicator")
            await shoot(host, "recording-mediator")
            timings["consent round"] = time.monotonic() - consent_started

            # A few seconds of the three browsers' media, then the mediator stops: a complete recording in
            # which every browser's camera and microphone decode end to end.
            recorded_from = time.monotonic()
            await frames_grow(host, [worker, employer], 50)  # 2.5 s of the 20 fps fake cameras
            await main_part.get_by_role("button", name="停止录制").click()
            for page in pages.values():
                await expect(page.locator("#recording")).to_be_hidden(timeout=10_000)
            await expect(main_part).to_have_attribute("data-state", "stopped")
            [recording] = await until_recordings(services, scene["session_id"], "complete")
            timings["recording"] = time.monotonic() - recorded_from
            assert recording.status == "complete", recording.note
            assert recording.note is None
            tracks = await asyncio.to_thread(decode_recording, recording, media_root)
            kinds = {(t.participant_id, t.kind, t.codec) for t in tracks}
            assert kinds == {
                (pid, k, c) for pid in everyone.values() for k, c in (("audio", "opus"), ("video", "vp8"))
            }
            for track in tracks:
                if track.kind == "video":  # ≥ 2 s of the 20 fps camera, at the size it was sent
                    assert track.frames >= 40, track
                    assert track.size is not None, track
                    assert track.size[0] >= 160, track
                else:  # 20 ms Opus frames
                    assert track.frames >= 100, track
            timings["recording checked"] = time.monotonic() - recorded_from
            print(
                f"recorded {recording.duration_ms} ms: "
                + ", ".join(f"{t.kind} {t.frames} frames {t.seconds:.2f} s {t.size or ''}" for t in tracks)
            )

            # The transcript: an entry typed in and a chat message pulled in; review; a dispute; confirmation.
            transcript_started = time.monotonic()
            await respondent.fill("#chat-text", "公司同意支付 9000 元")
            await respondent.click("#chat-form button")
            pull = host.locator("#chat-log li", has_text="公司同意支付 9000 元").get_by_role(
                "button", name="记入笔录"
            )
            await pull.click()
            await host.locator("#transcript-speaker").select_option(worker)
            await host.fill("#transcript-text", "拖欠工资三个月")
            await host.check("#transcript-undisputed")
            await host.click("#transcript-add")
            entries = host.locator("#transcript-entries li")
            await expect(entries).to_have_count(2, timeout=10_000)
            await expect(entries.nth(1)).to_contain_text("无争议事实")
            await host.click("#transcript-save")
            await host.click("#transcript-open-review")
            await expect(applicant.locator("#transcript-decide")).to_be_visible(timeout=10_000)
            await expect(applicant.locator("#transcript-version-entries")).to_contain_text(
                "公司同意支付 9000 元"
            )
            await respondent.click("#transcript-dispute")
            await respondent.fill("#dialog-reason", "金额应为 9600 元")
            await respondent.click("#dialog-ok")
            await expect(host.locator("#transcript-reviews")).to_contain_text(
                "金额应为 9600 元", timeout=10_000
            )
            await entries.nth(0).get_by_role("button", name="修改").click()
            await host.fill("#transcript-text", "公司同意支付 9600 元")
            await host.click("#transcript-add")
            await expect(entries.nth(0)).to_contain_text("9600", timeout=10_000)
            await host.click("#transcript-save")
            await host.click("#transcript-open-review")
            for page in (applicant, respondent):
                await expect(page.locator("#transcript-version")).to_contain_text("第 2 版", timeout=10_000)
            await shoot(applicant, "transcript-review")
            for page in (applicant, respondent):
                await page.click("#transcript-confirm")
            for page in pages.values():
                await expect(page.locator("#transcript-hash")).to_contain_text("SHA-256", timeout=10_000)
            await expect(host.locator("#transcript-add")).to_be_disabled()
            await shoot(host, "transcript-locked", phone=False)
            timings["transcript review"] = time.monotonic() - transcript_started

            # Participant controls: host mute shows on the party's page; lock; removal with a reason.
            people = host.locator("#people-list")
            await people.locator(f'li[data-id="{employer}"]').get_by_role("button", name="静音").click()
            await expect(respondent.locator("#muted-banner")).to_be_visible(timeout=10_000)
            await people.locator(f'li[data-id="{employer}"]').get_by_role("button", name="取消静音").click()
            await expect(respondent.locator("#muted-banner")).to_be_hidden(timeout=10_000)
            await host.click("#host-lock")
            await expect(host.locator("#host-locked")).to_be_visible()
            await expect(host.locator("#host-lock")).to_have_attribute("aria-pressed", "true")
            await people.locator(f'li[data-id="{employer}"]').get_by_role("button", name="移出调解室").click()
            await host.click("#dialog-ok")  # no reason given: the dialog asks for one
            await expect(host.locator("#dialog-message")).to_contain_text("请填写原因")
            await host.fill("#dialog-reason", "测试移出")
            await host.click("#dialog-ok")
            await expect(respondent.locator("#closed-message")).to_contain_text("移出", timeout=10_000)
            await expect(respondent.locator("#closed-note")).to_contain_text("测试移出")
            await expect(people.locator(f'li[data-id="{employer}"]')).to_have_count(0)

            # The mediator ends the session for everyone, after confirming.
            await host.click("#host-end")
            await expect(host.locator("#dialog")).to_be_visible()
            await host.click("#dialog-ok")
            for page in (host, applicant):
                await expect(page.locator("#screen-closed")).to_be_visible(timeout=10_000)
                await expect(page.locator("#closed-message")).to_contain_text("调解已结束")

            # The recording in the console: verified, rendered with a progress bar, played in the page.
            await console_recording(browser, scene["base"], scene["case_id"], recording.id, services, timings)
        except BaseException:
            print("\n".join(logs[-60:]))
            raise
        finally:
            await browser.close()
    await asyncio.sleep(0)
    timings["total"] = time.monotonic() - t0
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
