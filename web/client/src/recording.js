// Recording consent (OMR 18; docs/protocol.md, Recording consent). Everyone: the indicator while their part
// is recorded, and "you are not being recorded" for someone who has not consented. Someone asked: the
// consent dialog (what is recorded, who may see it, that refusing is allowed). The mediator: each part's
// state and answers, propose and stop.
import { $, el, errorText, label, t } from "./i18n.js";

let call = null;
let room = null;
let answering = false;

export function setupRecording(send) {
  call = send;
  $("recording-consent").addEventListener("click", () => answer(true));
  $("recording-refuse").addEventListener("click", () => answer(false));
  // Escape does not answer: the question stays until the person chooses.
  $("recording-dialog").addEventListener("cancel", (event) => event.preventDefault());
}

async function answer(consent) {
  if (answering) return;
  answering = true;
  $("recording-dialog-message").textContent = "";
  try {
    const reply = await call("answer_recording", { consent });
    if (reply && reply.ok) $("recording-dialog").close();
    else $("recording-dialog-message").textContent = errorText(reply && reply.error ? reply.error.code : "");
  } catch (error) {
    $("recording-dialog-message").textContent = t("connect.lost");
  } finally {
    answering = false;
  }
}

export function renderRecording(next, host) {
  room = next;
  const consent = room.recording_consent;
  const indicator = $("recording");
  indicator.hidden = !room.recording;
  const excluded = room.recording && consent && !consent.recorded && !host;
  indicator.textContent = excluded ? t("recording.not_you") : t("room.recording");
  indicator.classList.toggle("excluded", Boolean(excluded));
  document.body.dataset.recording = room.recording ? (excluded ? "excluded" : "recorded") : "";
  const dialog = $("recording-dialog");
  const asked = !host && consent && consent.answer === "pending" && (consent.state === "proposed" || consent.state === "recording");
  if (asked && !dialog.open) {
    $("recording-dialog-lead").textContent = t(consent.state === "recording" ? "recording.ask.running" : "recording.ask.lead");
    $("recording-dialog-message").textContent = "";
    dialog.showModal();
    $("recording-consent").focus();
  } else if (!asked && dialog.open) {
    dialog.close();
  }
  if (host) renderParts();
}

// --- the mediator's panel ------------------------------------------------------------------------------
const personName = (id) => {
  const person = room.participants.find((p) => p.id === id);
  return person ? label(person) : id;
};

function renderParts() {
  const parts = Object.keys(room.subrooms || { main: "" });
  const recordings = room.recordings || {};
  $("recording-parts").replaceChildren(
    ...parts.map((part) => {
      const rec = recordings[part];
      const active = rec && (rec.state === "proposed" || rec.state === "recording");
      const place = part === "main" ? t("host.main") : room.subrooms[part] || part;
      const answers = rec
        ? Object.entries(rec.answers).map(([id, a]) =>
            el("li", { className: `answer ${a}`, dataset: { id } }, `${personName(id)}：${t(`recording.answer.${a}`)}`))
        : [];
      const message = el("p", { className: "message", role: "alert" });
      const button = el("button", {
        type: "button",
        className: active ? "danger" : "secondary",
        text: active ? t(rec.state === "recording" ? "recording.stop" : "recording.withdraw") : t("recording.propose"),
      });
      button.addEventListener("click", async () => {
        message.textContent = "";
        const reply = await call(active ? "stop_recording" : "propose_recording", { part }).catch(() => null);
        if (!reply || !reply.ok) message.textContent = reply ? errorText(reply.error ? reply.error.code : "") : t("connect.lost");
      });
      const state = rec ? t(`recording.state.${rec.state}`) : t("recording.state.none");
      const refused = rec && rec.refused_by.length ? t("recording.refused_by", { names: rec.refused_by.map(personName).join("、") }) : "";
      return el("li", { className: "recording-part", dataset: { part, state: rec ? rec.state : "none" } },
        el("p", { className: "who-line" }, el("strong", { text: place }), el("span", { className: "state", text: state })),
        refused ? el("p", { className: "refused", text: refused }) : null,
        answers.length ? el("ul", { className: "answers" }, ...answers) : null,
        message,
        el("div", { className: "row-actions" }, button));
    }));
}
