// The session page (/j#<token>): device check → lobby (consent, warning) → waiting → room (media, chat);
// the mediator's link opens the same page with the host panel (host.js) instead of the lobby.
// Protocol: docs/protocol.md (socket.io namespace /room, protocol 1). Strings come from the page's JSON data
// block (web/client_page.py MESSAGES); nothing is loaded from outside the origin.
import { io } from "socket.io-client";
import { addAgreementComment, agreementRoom, setupAgreement } from "./agreement.js";
import { ask } from "./dialog.js";
import { renderHost, setupHost } from "./host.js";
import { $, STRINGS, errorText, label, t } from "./i18n.js";
import { renderRecording, setupRecording } from "./recording.js";
import { watchSpeakers } from "./speaker.js";
import { pullButton, renderTranscript, setupTranscript, transcriptRoom } from "./transcript.js";

const SCREENS = ["check", "lobby", "waiting", "room", "closed"];
const IN_APP = /MicroMessenger|WeChat|QQ\/|MQQBrowser.*QQ|Weibo|DingTalk|AlipayClient|Lark|FBAN|FBAV|Instagram/i;
const CAMERA_BITRATE = 600_000;
const SCREEN_BITRATE = 1_000_000;
const SENDS_SCREEN = new Set(["mediator", "applicant", "respondent"]); // docs/protocol.md, rights by role
const SEES_TRANSCRIPT = SENDS_SCREEN; // the mediator keeps it; the parties and agents review it

const state = {
  token: "",
  stream: null,
  socket: null,
  iceServers: [],
  room: null,
  acknowledged: false,
  closed: false,
  publishPc: null,
  subscribePc: null,
  tracks: {},
  tiles: new Map(), // publisher_id → {figure, video, stream}
  publishing: false,
  sources: new Map(), // publish transceiver → "audio" | "camera" | "screen"
  screen: null, // {transceiver, track} while sharing (the transceiver is kept for the next share)
  screenTransceiver: null,
  negotiation: Promise.resolve(), // publish offers go one at a time
  stopSpeakers: null,
};

function show(name) {
  for (const screen of SCREENS) $(`screen-${screen}`).hidden = screen !== name;
  const heading = $(`screen-${name}`).querySelector("h1");
  if (heading) heading.focus({ preventScroll: false });
  document.body.dataset.screen = name;
}

function status(text) {
  const el = $("status");
  el.textContent = text || "";
  el.hidden = !text;
}

// --- language switch keeps the fragment (the token) ---------------------------------------------------
$("lang-switch").addEventListener("click", (event) => {
  event.preventDefault();
  const url = new URL($("lang-switch").href, location.href);
  url.hash = location.hash;
  location.assign(url.toString());
});

// --- device check -------------------------------------------------------------------------------------
function deviceError(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return t("check.denied");
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return t("check.no_device");
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return t("check.busy");
  return t("check.failed", { error: name || String(error) });
}

async function checkDevices() {
  const message = $("check-message");
  const retry = $("check-retry");
  const proceed = $("check-continue");
  message.className = "message";
  proceed.disabled = true;
  retry.hidden = true;
  const inApp = IN_APP.test(navigator.userAgent);
  if (!state.token) {
    message.textContent = t("check.no_token");
    return;
  }
  if (!window.isSecureContext) {
    message.textContent = t("check.insecure");
    return;
  }
  if (!window.RTCPeerConnection || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    message.textContent = inApp ? t("check.in_app") : t("check.no_webrtc");
    return;
  }
  message.textContent = t("check.running");
  message.className = "message ok";
  try {
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20, max: 30 } },
    });
  } catch (error) {
    state.stream = null;
    message.className = "message";
    message.textContent = inApp ? `${deviceError(error)} ${t("check.in_app")}` : deviceError(error);
    retry.hidden = false;
    return;
  }
  $("preview").srcObject = state.stream;
  message.textContent = inApp ? `${t("check.ok")} ${t("check.in_app")}` : t("check.ok");
  proceed.disabled = false;
  proceed.focus();
}

$("check-retry").addEventListener("click", checkDevices);
$("check-continue").addEventListener("click", () => {
  $("check-continue").disabled = true;
  connect();
});

// --- the room connection ------------------------------------------------------------------------------
function connect() {
  status(t("connect.running"));
  const socket = io("/room", {
    auth: { token: state.token, protocol: 1 },
    query: { session: (() => { try { return JSON.parse(atob(state.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).s || ""; } catch { return ""; } })() },
    transports: ["websocket", "polling"],
    reconnectionAttempts: 20,
  });
  state.socket = socket;
  socket.on("connect", onConnected);
  socket.on("connect_error", (error) => {
    const data = error && error.data;
    if (data && data.code) {
      if (data.code === "server_shutdown") {
        status(t("refused.server_shutdown"));
        return; // the client retries on its own
      }
      refuse(data);
    } else {
      status(t("connect.lost"));
    }
  });
  socket.on("disconnect", (reason) => {
    if (state.closed) return;
    teardownMedia();
    status(t("connect.lost"));
    if (reason === "io server disconnect") socket.connect();
  });
  socket.io.on("reconnect_failed", () => status(t("connect.failed")));
  socket.on("room", applyRoom);
  socket.on("chat", addChat);
  socket.on("transcript", renderTranscript);
  socket.on("agreement_comment", addAgreementComment);
  socket.on("subscribe_offer", (data) => onSubscribeOffer(data).catch(mediaFailed));
  socket.on("closed", onClosed);
}

function call(event, data) {
  return state.socket.timeout(10_000).emitWithAck(event, data);
}

async function onConnected() {
  status("");
  const reply = await call("sync");
  if (!reply || !reply.ok) return;
  state.iceServers = reply.ice_servers || [];
  applyRoom(reply.room);
}

function me(room) {
  return (room.participants || []).find((p) => p.id === room.you);
}

function applyRoom(room) {
  if (state.closed || !room) return;
  state.room = room;
  const self = me(room);
  if (!self) return;
  if (self.state === "lobby") {
    if (state.acknowledged) {
      if (document.body.dataset.screen !== "waiting") show("waiting");
    } else if (document.body.dataset.screen !== "lobby") {
      show("lobby");
    }
    return;
  }
  const host = self.role === "mediator";
  if (document.body.dataset.screen !== "room") {
    show("room");
    $("self-video").srcObject = state.stream;
    if (SEES_TRANSCRIPT.has(self.role)) {
      call("transcript_sync")
        .then((reply) => reply && reply.ok && renderTranscript(reply.transcript))
        .catch(() => {});
    }
  }
  const location = room.location;
  const banner = $("private-banner");
  if (location && location !== "main") {
    const place = (room.subrooms && room.subrooms[location]) || location;
    banner.textContent = t(host ? "room.private_host" : "room.private", { label: place });
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  // Nobody hosting here: the mediator is in a private room with someone else, or away for a moment.
  const away = $("away-banner");
  const hostHere = room.participants.some((p) => p.role === "mediator" && p.id !== room.you);
  away.hidden = host || hostHere;
  away.textContent = away.hidden ? "" : t(room.caucus ? "room.caucus_waiting" : "room.mediator_away");
  document.body.dataset.away = away.hidden ? "" : room.caucus ? "caucus" : "away";
  $("muted-banner").hidden = !self.muted_by_host;
  renderRecording(room, host);
  transcriptRoom(room, host);
  agreementRoom(room, host);
  $("toggle-screen").hidden = !(SENDS_SCREEN.has(self.role) && navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  if (host) renderHost(room);
  if (!state.stopSpeakers) state.stopSpeakers = watchSpeakers(speakerSources, showSpeaker);
  for (const tile of state.tiles.values()) {
    tile.caption.textContent = tileCaption(tile);
    tile.video.setAttribute("aria-label", tile.caption.textContent);
  }
  if (!state.publishing) publish().catch(publishFailed);
}

function publishFailed(error) {
  if (error && error.code === "not_allowed") return; // this role sends nothing more; keep watching
  if (error && error.code === "not_admitted") {
    state.publishing = false; // sent during a move back to the lobby: the next room event tries again
    return;
  }
  mediaFailed(error);
}

// --- lobby ----------------------------------------------------------------------------------------------
$("lobby-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const consent = $("consent").checked;
  const warning = $("warning").checked;
  const message = $("lobby-message");
  if (!consent || !warning) {
    message.textContent = t("lobby.required");
    (consent ? $("warning") : $("consent")).focus();
    return;
  }
  message.textContent = "";
  $("lobby-submit").disabled = true;
  try {
    const reply = await call("acknowledge", { consent, warning });
    if (reply && reply.ok) {
      state.acknowledged = true;
      show("waiting");
    } else {
      message.textContent = errorText(reply && reply.error ? reply.error.code : "");
    }
  } catch (error) {
    message.textContent = t("connect.lost");
  } finally {
    $("lobby-submit").disabled = false;
  }
});

// --- media ----------------------------------------------------------------------------------------------
function iceGathered(pc, seconds = 5) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, seconds * 1000);
  });
}

function preferVp8(transceiver) {
  if (!window.RTCRtpSender || !RTCRtpSender.getCapabilities || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpSender.getCapabilities("video").codecs;
  const vp8 = codecs.filter((c) => /\/vp8$/i.test(c.mimeType));
  const rest = codecs.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  if (vp8.length) transceiver.setCodecPreferences([...vp8, ...rest]);
}

async function publish() {
  if (!state.stream || state.publishing) return;
  state.publishing = true;
  // What the role may send (docs/protocol.md): a clerk nothing, an interpreter only sound.
  const role = state.room && me(state.room) ? me(state.room).role : "";
  if (role === "clerk") return;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  state.publishPc = pc;
  state.sources = new Map();
  const audio = state.stream.getAudioTracks()[0];
  const video = role === "interpreter" ? undefined : state.stream.getVideoTracks()[0];
  if (audio) state.sources.set(pc.addTransceiver(audio, { direction: "sendonly", streams: [state.stream] }), "audio");
  if (video) {
    const tr = pc.addTransceiver(video, {
      direction: "sendonly",
      streams: [state.stream],
      sendEncodings: [{ maxBitrate: CAMERA_BITRATE }],
    });
    preferVp8(tr);
    state.sources.set(tr, "camera");
  }
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed" && state.publishPc === pc) mediaFailed(new Error("publish failed"));
  });
  try {
    await negotiatePublish(pc);
  } catch (error) {
    pc.close();
    if (state.publishPc === pc) state.publishPc = null;
    throw error;
  }
}

// One offer/answer round on the publish connection (first publish, screen share on or off); rounds never
// overlap. The server answers every m-section; `sources` names each (mid → audio | camera | screen).
function negotiatePublish(pc) {
  const round = state.negotiation.catch(() => {}).then(async () => {
    if (state.publishPc !== pc) return;
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    const sources = {};
    for (const [tr, source] of state.sources) if (tr.mid != null) sources[tr.mid] = source;
    const reply = await call("publish", { sdp: pc.localDescription.sdp, sources });
    if (!reply || !reply.ok) {
      const error = new Error(reply && reply.error ? reply.error.code : "publish");
      error.code = reply && reply.error ? reply.error.code : undefined;
      if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
      throw error;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
  });
  state.negotiation = round;
  return round;
}

// --- screen share: an extra video m-section on the publish connection, renegotiated on and off ------------------
async function startScreen() {
  const pc = state.publishPc;
  if (!pc || state.screen) return;
  let capture;
  try {
    capture = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { max: 10 } }, audio: false });
  } catch (error) {
    if (error && error.name !== "NotAllowedError") $("screen-message").textContent = t("screen.failed");
    return;
  }
  const track = capture.getVideoTracks()[0];
  if (!track) return;
  if ("contentHint" in track) track.contentHint = "detail";
  track.addEventListener("ended", () => stopScreen());
  let tr = state.screenTransceiver;
  if (tr && state.publishPc === pc && !tr.stopped) {
    await tr.sender.replaceTrack(track);
    tr.direction = "sendonly";
  } else {
    tr = pc.addTransceiver(track, { direction: "sendonly", sendEncodings: [{ maxBitrate: SCREEN_BITRATE }] });
    preferVp8(tr);
    state.screenTransceiver = tr;
    state.sources.set(tr, "screen");
  }
  state.screen = { transceiver: tr, track };
  showScreenButton(true);
  showOwnScreen(track);
  try {
    await negotiatePublish(pc);
  } catch (error) {
    $("screen-message").textContent = errorText(error.code || "");
    await stopScreen(false);
  }
}

async function stopScreen(renegotiate = true) {
  const screen = state.screen;
  if (!screen) return;
  state.screen = null;
  screen.track.stop();
  showScreenButton(false);
  showOwnScreen(null);
  const pc = state.publishPc;
  if (!pc || pc.connectionState === "closed") return;
  screen.transceiver.direction = "inactive";
  await screen.transceiver.sender.replaceTrack(null);
  if (renegotiate) await negotiatePublish(pc).catch(mediaFailed);
}

function showScreenButton(sharing) {
  const button = $("toggle-screen");
  button.setAttribute("aria-pressed", String(sharing));
  button.textContent = t(sharing ? "room.screen_stop" : "room.screen_start");
}

function showOwnScreen(track) {
  const figure = $("own-screen");
  figure.hidden = !track;
  $("own-screen-video").srcObject = track ? new MediaStream([track]) : null;
}

$("toggle-screen").addEventListener("click", () => {
  $("screen-message").textContent = "";
  (state.screen ? stopScreen() : startScreen()).catch(mediaFailed);
});

// --- active speaker ---------------------------------------------------------------------------------------------
function speakerSources() {
  const self = state.room && me(state.room);
  const mic = state.stream && state.stream.getAudioTracks()[0];
  return {
    publishPc: state.publishPc,
    subscribePc: state.subscribePc,
    tracks: state.tracks,
    selfSilent: !mic || !mic.enabled || Boolean(self && self.muted_by_host),
  };
}

function showSpeaker(id) {
  for (const figure of document.querySelectorAll(".tile.speaking")) figure.classList.remove("speaking");
  const tile = id === "self" ? document.querySelector(".tile.self") : state.tiles.get(id) && state.tiles.get(id).figure;
  if (tile) tile.classList.add("speaking");
}

async function onSubscribeOffer(data) {
  if (!state.subscribePc) {
    const pc = new RTCPeerConnection({ iceServers: state.iceServers });
    state.subscribePc = pc;
    pc.addEventListener("track", () => renderTiles());
  }
  const pc = state.subscribePc;
  state.tracks = data.tracks || {};
  await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await iceGathered(pc);
  const reply = await call("subscribe_answer", { sdp: pc.localDescription.sdp });
  if (!reply || !reply.ok) throw new Error(reply && reply.error ? reply.error.code : "subscribe_answer");
  renderTiles();
}

// One tile per media stream: the server announces each publisher's tracks under one a=msid (stream id =
// publisher id), so camera and microphone play together; `tracks` names the publisher and source of every
// mid in use. A screen share gets a tile of its own (a <video> shows one video track).
function tileCaption(tile) {
  const who = state.room && state.room.participants.find((p) => p.id === tile.publisher);
  const name = who ? label(who) : "";
  if (tile.screen) return t("room.screen", { name });
  return who && who.state === "reconnecting" ? `${name} · ${t("room.reconnecting")}` : name;
}

function renderTiles() {
  const pc = state.subscribePc;
  if (!pc) return;
  const groups = new Map();
  for (const tr of pc.getTransceivers()) {
    const info = tr.mid != null ? state.tracks[tr.mid] : null;
    if (!info || !tr.receiver || !tr.receiver.track) continue;
    if (tr.currentDirection === "inactive" || tr.direction === "inactive") continue;
    const key = info.source === "screen" ? `${info.publisher_id}:screen` : info.publisher_id;
    if (!groups.has(key)) groups.set(key, { publisher: info.publisher_id, screen: info.source === "screen", tracks: [] });
    groups.get(key).tracks.push(tr.receiver.track);
  }
  for (const [key, tile] of state.tiles) {
    if (!groups.has(key)) {
      tile.video.srcObject = null;
      tile.figure.remove();
      state.tiles.delete(key);
    }
  }
  for (const [key, group] of groups) {
    const tracks = group.tracks;
    let tile = state.tiles.get(key);
    if (!tile) {
      const figure = document.createElement("figure");
      figure.className = group.screen ? "tile remote screen" : "tile remote";
      figure.dataset.publisher = group.publisher;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      const caption = document.createElement("figcaption");
      figure.append(video, caption);
      $("tiles").append(figure);
      tile = { figure, video, caption, publisher: group.publisher, screen: group.screen, stream: new MediaStream() };
      caption.textContent = tileCaption(tile);
      video.setAttribute("aria-label", caption.textContent);
      video.srcObject = tile.stream;
      state.tiles.set(key, tile);
    }
    const current = tile.stream.getTracks();
    for (const track of current) if (!tracks.includes(track)) tile.stream.removeTrack(track);
    for (const track of tracks) if (!current.includes(track)) tile.stream.addTrack(track);
    const playing = tile.video.play();
    if (playing) playing.catch(() => ($("play-audio").hidden = false));
  }
  $("nobody").hidden = state.tiles.size > 0;
}

$("play-audio").addEventListener("click", () => {
  for (const tile of state.tiles.values()) tile.video.play().catch(() => {});
  $("play-audio").hidden = true;
});

function teardownMedia() {
  if (state.screen) {
    state.screen.track.stop();
    state.screen = null;
    showScreenButton(false);
    showOwnScreen(null);
  }
  state.screenTransceiver = null;
  if (state.stopSpeakers) state.stopSpeakers();
  state.stopSpeakers = null;
  showSpeaker(null);
  for (const pc of [state.publishPc, state.subscribePc]) if (pc) pc.close();
  state.publishPc = null;
  state.subscribePc = null;
  state.publishing = false;
  for (const tile of state.tiles.values()) tile.figure.remove();
  state.tiles.clear();
}

let retryTimer = null;
function mediaFailed(error) {
  console.warn("media:", error);
  if (state.closed || retryTimer) return;
  status(t("room.media_failed"));
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (state.closed || !state.socket) return;
    // Rejoining replaces both peer connections (docs/protocol.md, Media).
    teardownMedia();
    state.socket.disconnect();
    state.socket.connect();
  }, 3000);
}

// --- controls ---------------------------------------------------------------------------------------------
function toggle(button, kind, onKey, offKey) {
  const track = state.stream && (kind === "audio" ? state.stream.getAudioTracks()[0] : state.stream.getVideoTracks()[0]);
  if (!track) return;
  track.enabled = !track.enabled;
  button.setAttribute("aria-pressed", String(!track.enabled));
  button.textContent = t(track.enabled ? onKey : offKey);
}
$("toggle-mic").addEventListener("click", (e) => toggle(e.currentTarget, "audio", "room.mic_on", "room.mic_off"));
$("toggle-cam").addEventListener("click", (e) => toggle(e.currentTarget, "video", "room.cam_on", "room.cam_off"));
$("leave").addEventListener("click", async () => {
  const answer = await ask({ title: t("room.leave"), text: t("room.leave.confirm"), confirm: t("room.leave"), danger: true });
  if (answer === null) return;
  try {
    await call("leave");
  } catch (error) {
    onClosed({ reason: "left" });
  }
});

// --- chat ---------------------------------------------------------------------------------------------------
function addChat(message) {
  const item = document.createElement("li");
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = label(message);
  const text = document.createElement("span");
  text.textContent = message.text;
  item.append(who, text);
  const self = state.room && me(state.room);
  if (message.id && self && self.role === "mediator") item.append(pullButton(message));
  if (message.subroom && message.subroom !== "main") {
    const place = (state.room && state.room.subrooms && state.room.subrooms[message.subroom]) || message.subroom;
    item.prepend(Object.assign(document.createElement("span"), { className: "place", textContent: place }));
    item.classList.add("private");
  }
  if (message.at) {
    const time = document.createElement("time");
    time.dateTime = message.at;
    const at = new Date(message.at);
    time.textContent = isNaN(at) ? "" : at.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    item.append(time);
  }
  const log = $("chat-log");
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("chat-text");
  const text = input.value.trim();
  const message = $("chat-message");
  if (!text) return;
  try {
    const reply = await call("chat", { text });
    if (reply && reply.ok) {
      input.value = "";
      message.textContent = "";
    } else {
      const code = reply && reply.error ? reply.error.code : "?";
      message.textContent =
        code === "rate_limited" ? t("chat.rate_limited") : code === "chat_not_allowed" ? t("chat.not_allowed") : errorText(code);
    }
  } catch (error) {
    message.textContent = t("connect.lost");
  }
});

// --- the end ------------------------------------------------------------------------------------------------
function finish(text, note, canReopen) {
  state.closed = true;
  teardownMedia();
  if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
  if (state.socket) state.socket.disconnect();
  status("");
  $("closed-message").textContent = text;
  $("closed-note").textContent = note ? t("closed.note", { note }) : "";
  $("closed-reopen").hidden = !canReopen;
  show("closed");
}

function onClosed(data) {
  const reason = (data && data.reason) || "unknown";
  document.body.dataset.closed = reason;
  if (reason === "server_shutdown") {
    teardownMedia();
    status(t("closed.server_shutdown"));
    // The only reason after which the client comes back by itself.
    setTimeout(() => location.reload(), 5000);
    return;
  }
  const key = `closed.${reason}`;
  finish(STRINGS[key] ? t(key) : t("closed.unknown", { reason }), data && data.note, reason === "grace_expired");
}

function refuse(data) {
  const code = data.code;
  document.body.dataset.closed = code;
  const key = `refused.${code}`;
  let text;
  if (code === "outside_slot") text = t(key, { slot: [data.slot_start, data.slot_end].filter(Boolean).join(" – ") });
  else text = STRINGS[key] ? t(key) : t("refused.unknown", { code });
  $("closed-title").textContent = t("refused.title");
  finish(text, null, code === "outside_slot" || code === "room_locked");
}

$("closed-reopen").addEventListener("click", () => location.reload());

// --- start ----------------------------------------------------------------------------------------------------
// Another link opened in this tab changes only the fragment: start over with it.
window.addEventListener("hashchange", () => location.reload());
setupHost(call);
setupRecording(call);
setupTranscript(call);
setupAgreement(call);
state.token = decodeURIComponent(location.hash.replace(/^#/, "")).trim();
show("check");
checkDevices();
