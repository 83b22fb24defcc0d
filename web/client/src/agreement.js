// The agreement in the room (docs/protocol.md, The agreement in the room). The mediator shows the case's
// current version in the main room or one private room and hides it again; everyone present there reads
// it — its text laid out as the PDF prints it, or the frozen PDF — and the parties and agents comment on
// it. The mediator sees every comment as it comes. The text comes from the server as plain strings and is
// put into the page as text, never as markup.
import { $, act as sendAct, el, label, t } from "./i18n.js";

const COMMENTERS = new Set(["applicant", "respondent"]); // docs/protocol.md: the parties and their agents
let call = null;
let room = null;
let host = false;
let view = null; // what agreement_sync answered for the showing we see
let seen = ""; // "show_id/seq" of the showing rendered, so that a room event only refetches on a change
let pdfUrl = null;

const act = (event, data, messageEl) => sendAct(call, event, data, messageEl);

export function setupAgreement(send) {
  call = send;
  $("agreement-show").addEventListener("click", () =>
    act("agreement_show", { part: $("agreement-part").value }, $("agreement-host-message")));
  $("agreement-hide").addEventListener("click", () =>
    act("agreement_hide", { part: $("agreement-part").value }, $("agreement-host-message")));
  $("agreement-comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("agreement-comment-text").value.trim();
    if (!text || !view) return;
    const reply = await act("agreement_comment", { version_id: view.version_id, text }, $("agreement-message"));
    if (reply) $("agreement-comment-text").value = "";
  });
  $("agreement-open-pdf").addEventListener("click", openPdf);
}

async function openPdf() {
  const reply = await act("agreement_pdf", {}, $("agreement-message"));
  if (!reply) return;
  if (pdfUrl) URL.revokeObjectURL(pdfUrl);
  pdfUrl = URL.createObjectURL(new Blob([reply.pdf], { type: "application/pdf" }));
  const link = $("agreement-pdf-link");
  link.href = pdfUrl;
  link.download = `agreement-v${view ? view.number : ""}.pdf`;
  link.hidden = false;
  link.click();
}

function commentItem(comment) {
  return el("li", { className: "entry", dataset: { id: comment.id } },
    el("span", { className: "who", text: label(comment) }),
    el("time", { dateTime: comment.at, text: new Date(comment.at).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" }) }),
    host && comment.part !== "main" ? el("span", { className: "mark", text: (room.subrooms && room.subrooms[comment.part]) || comment.part }) : null,
    el("p", { className: "text", text: comment.text }));
}

// Called with every room event: the mediator's controls follow the parts of the room; a new showing (or a
// refreshed one) is fetched.
export function agreementRoom(next, isHost) {
  room = next;
  host = isHost;
  $("agreement-host").hidden = !host;
  $("agreement").hidden = !(host || view);
  if (host) {
    const select = $("agreement-part");
    const parts = Object.entries(room.subrooms || { main: "main" });
    const wanted = parts.map(([id, name]) => `${id}=${name}`).join("|");
    if (select.dataset.parts !== wanted) {
      const chosen = select.value;
      select.dataset.parts = wanted;
      select.replaceChildren(...parts.map(([id, name]) => el("option", { value: id, text: id === "main" ? t("host.main") : name })));
      if (parts.some(([id]) => id === chosen)) select.value = chosen;
    }
    const shown = Object.values(room.agreements || {});
    $("agreement-shown").textContent = shown.length
      ? t("agreement.shown_in", { where: shown.map((s) => (s.part === "main" ? t("host.main") : (room.subrooms || {})[s.part] || s.part) + t("agreement.version", { n: s.number })).join("、") })
      : t("agreement.shown_nowhere");
  }
  const summary = room.agreement;
  const key = summary ? `${summary.show_id}/${summary.seq}` : "";
  if (key === seen) return;
  seen = key;
  if (!summary) {
    view = null;
    render();
    return;
  }
  call("agreement_sync", {})
    .then((reply) => {
      if (reply && reply.ok && seen === key) {
        view = reply.agreement;
        render();
      }
    })
    .catch(() => {});
}

// A comment pushed by the server: for the showing on screen it joins the list; the mediator also hears of
// comments in parts they are not in.
export function addAgreementComment(comment) {
  if (view && comment.version_id === view.version_id && (!host || comment.part === view.part)) {
    if (!view.comments.some((c) => c.id === comment.id)) view.comments.push(comment);
    render();
  } else if (host) {
    $("agreement-elsewhere").append(commentItem(comment));
    $("agreement-elsewhere-box").hidden = false;
  }
}

function render() {
  const section = $("agreement");
  section.hidden = !(host || view);
  $("agreement-view").hidden = !view;
  if (!view) return;
  const self = room && room.participants.find((p) => p.id === room.you);
  $("agreement-heading").textContent = t("agreement.heading", { n: view.number, status: t(`agreement.status.${view.status}`) });
  $("agreement-hash").textContent = view.pdf_sha256 ? t("agreement.hash", { hash: view.pdf_sha256 }) : "";
  const doc = view.document;
  const body = doc
    ? [el("h3", { className: "doc-title", text: doc.title }), el("p", { className: "doc-subtitle", text: doc.subtitle }),
      ...doc.sections.flatMap((s) => [el("h4", { text: s.heading }), ...s.paragraphs.map((p) => el("p", { text: p }))])]
    : [el("p", { className: "help", text: t("agreement.pdf_only") })];
  $("agreement-document").replaceChildren(...body);
  $("agreement-open-pdf").hidden = !view.has_pdf;
  $("agreement-comments").replaceChildren(...view.comments.map(commentItem));
  $("agreement-comment-form").hidden = !(self && COMMENTERS.has(self.role));
}
