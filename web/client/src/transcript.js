// The electronic transcript (电子笔录; docs/protocol.md, Electronic transcript). The mediator adds and
// edits entries (speaker, text, time, undisputed), pulls chat messages in, saves versions and puts the
// latest to review; a party or agent reads the version under review and confirms it or disputes it with a
// comment; once everyone confirmed, the locked version and its SHA-256 show for all.
import { ask } from "./dialog.js";
import { $, act as sendAct, el, label, t } from "./i18n.js";

let call = null;
let room = null;
let view = null;
let editing = null; // the entry id being edited in the form, or null when adding

const time = (at) => {
  const date = new Date(at);
  return isNaN(date) ? "" : date.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
};

const act = (event, data, messageEl) => sendAct(call, event, data, messageEl);

export function setupTranscript(send) {
  call = send;
  $("transcript-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("transcript-text").value.trim();
    if (!text) return;
    const option = $("transcript-speaker").selectedOptions[0];
    const data = { speaker: option.textContent, text, undisputed: $("transcript-undisputed").checked };
    if (option.value) data.speaker_id = option.value;
    const reply = editing
      ? await act("transcript_edit", { entry_id: editing, ...data, speaker_id: data.speaker_id || null }, $("transcript-message"))
      : await act("transcript_add", data, $("transcript-message"));
    if (reply) resetForm();
  });
  $("transcript-cancel").addEventListener("click", resetForm);
  $("transcript-save").addEventListener("click", async () => {
    const reply = await act("transcript_save", {}, $("transcript-message"));
    if (reply) $("transcript-message").textContent = "";
  });
  // The latest saved version: the server decides which, so a click right after "save" cannot race it.
  $("transcript-open-review").addEventListener("click", () => act("transcript_open_review", {}, $("transcript-message")));
  $("transcript-confirm").addEventListener("click", () => decide("confirm"));
  $("transcript-dispute").addEventListener("click", () => decide("dispute"));
}

async function decide(decision) {
  const current = view && view.current;
  if (!current) return;
  let comment;
  if (decision === "dispute") {
    comment = await ask({ title: t("transcript.dispute.title"), confirm: t("transcript.dispute"), reason: true });
    if (!comment) return;
  }
  await act("transcript_review", { version: current.number, decision, ...(comment ? { comment } : {}) }, $("transcript-review-message"));
}

function resetForm() {
  editing = null;
  $("transcript-text").value = "";
  $("transcript-undisputed").checked = false;
  $("transcript-add").textContent = t("transcript.add");
  $("transcript-cancel").hidden = true;
}

function edit(entry) {
  editing = entry.id;
  $("transcript-text").value = entry.text;
  $("transcript-undisputed").checked = entry.undisputed;
  const select = $("transcript-speaker");
  const match = [...select.options].find((o) => (entry.speaker_id ? o.value === entry.speaker_id : o.textContent === entry.speaker));
  if (match) select.value = match.value;
  $("transcript-add").textContent = t("transcript.update");
  $("transcript-cancel").hidden = false;
  $("transcript-text").focus();
}

// Called with every room event: who may speak in the transcript follows the people in the room.
export function transcriptRoom(next, host) {
  room = next;
  $("transcript").hidden = !(host || (view && view.current));
  $("transcript-keeper").hidden = !host;
  if (!host) return;
  const select = $("transcript-speaker");
  const people = room.participants.filter((p) => p.state !== "lobby");
  const wanted = people.map((p) => `${p.id}=${label(p)}`).join("|");
  if (select.dataset.people !== wanted) {
    const chosen = select.value;
    select.dataset.people = wanted;
    select.replaceChildren(...people.map((p) => el("option", { value: p.id, text: label(p) })));
    if (people.some((p) => p.id === chosen)) select.value = chosen;
  }
}

function entryItem(entry, host) {
  const item = el("li", { className: entry.undisputed ? "entry undisputed" : "entry", dataset: { id: entry.id, seq: String(entry.seq) } },
    el("span", { className: "who", text: entry.speaker }),
    el("time", { dateTime: entry.at, text: time(entry.at) }),
    entry.undisputed ? el("span", { className: "mark", text: t("transcript.undisputed.mark") }) : null,
    el("p", { className: "text", text: entry.text }));
  if (host && view.status === "editing") {
    const change = el("button", { type: "button", className: "secondary", text: t("transcript.edit") });
    change.addEventListener("click", () => edit(entry));
    const mark = el("button", { type: "button", className: "secondary", text: t(entry.undisputed ? "transcript.unmark" : "transcript.mark") });
    mark.addEventListener("click", () => act("transcript_edit", { entry_id: entry.id, undisputed: !entry.undisputed }, $("transcript-message")));
    item.append(el("div", { className: "row-actions" }, change, mark));
  }
  return item;
}

export function renderTranscript(next) {
  view = next;
  if (!room) return;
  const self = room.participants.find((p) => p.id === room.you);
  const host = Boolean(self && self.role === "mediator");
  transcriptRoom(room, host);
  const current = view.current;
  $("transcript-status").textContent = t(`transcript.status.${view.status}`);
  if (host) {
    $("transcript-entries").replaceChildren(...view.entries.map((e) => entryItem(e, true)));
    const editable = view.status === "editing";
    for (const id of ["transcript-add", "transcript-save", "transcript-open-review"]) $(id).disabled = !editable;
    for (const button of document.querySelectorAll(".pull")) button.hidden = !editable;
  }
  // The version under review (or locked), for everyone who sees the transcript.
  const review = $("transcript-review");
  review.hidden = !current || current.status === "saved";
  if (!current) return;
  $("transcript-version").textContent = t("transcript.version", { n: current.number, status: t(`transcript.version.${current.status}`) });
  $("transcript-version-entries").replaceChildren(...current.entries.map((e) => entryItem(e, false)));
  const mine = current.reviews.find((r) => r.participant_id === room.you);
  const asked = current.status === "in_review" && current.reviewers.some((r) => r.id === room.you) && !mine;
  $("transcript-decide").hidden = !asked;
  const notes = current.reviews.map((r) =>
    el("li", { className: r.decision }, `${label(r)}：${t(`transcript.decision.${r.decision}`)}${r.comment ? ` — ${r.comment}` : ""}`));
  $("transcript-reviews").replaceChildren(...notes);
  $("transcript-hash").hidden = current.status !== "locked";
  $("transcript-hash").textContent = current.sha256 ? t("transcript.locked", { hash: current.sha256 }) : "";
}

// The mediator's "pull into the transcript" button on a chat message.
export function pullButton(message) {
  const button = el("button", { type: "button", className: "secondary pull", text: t("transcript.pull") });
  button.addEventListener("click", async () => {
    if (await act("transcript_pull_chat", { record_id: message.id }, $("transcript-message"))) button.disabled = true;
  });
  return button;
}
