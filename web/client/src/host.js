// The mediator's panel (shown to the host role only): the lobby with each person's consent and warning,
// the identity check (method + result, check_identity), admit / deny; everyone present with where they
// are, host mute, move and remove; caucus sub-rooms; lock; end for all. Every action is one protocol
// event (docs/protocol.md); the room event that follows redraws the panel. Rows are kept per participant,
// so a form being filled in survives the redraws.
import { ask } from "./dialog.js";
import { $, el, errorText, label, t } from "./i18n.js";

const METHODS = ["id_card", "face_to_camera", "phone_code", "credit_code", "court_site", "other"];
const lobbyRows = new Map(); // participant id → {row, facts, ...}
const peopleRows = new Map();
let call = null;
let room = null;
let announced = new Set();

export function setupHost(send) {
  call = send;
  $("caucus-form").addEventListener("submit", (event) => {
    event.preventDefault();
    openCaucus();
  });
  $("caucus-close").addEventListener("click", () => act("close_subrooms", {}));
  $("host-lock").addEventListener("click", () => act("lock", { locked: !(room && room.locked) }));
  $("host-end").addEventListener("click", async () => {
    const answer = await ask({ title: t("host.end.title"), text: t("host.end.confirm"), confirm: t("host.end"), danger: true });
    if (answer !== null) act("end", {});
  });
}

async function act(event, data, messageEl = $("host-message")) {
  messageEl.textContent = "";
  try {
    const reply = await call(event, data);
    if (reply && reply.ok) return true;
    messageEl.textContent = errorText(reply && reply.error ? reply.error.code : "");
  } catch (error) {
    messageEl.textContent = t("connect.lost");
  }
  return false;
}

const placeName = (id) => (id === "main" ? t("host.main") : (room.subrooms && room.subrooms[id]) || id);

export function renderHost(next) {
  room = next;
  $("host-panel").hidden = false;
  const lobby = room.participants.filter((p) => p.state === "lobby");
  const inside = room.participants.filter((p) => p.state !== "lobby");
  $("lobby-count").textContent = t("host.lobby.count", { n: lobby.length });
  $("lobby-empty").hidden = lobby.length > 0;
  sync(lobbyRows, lobby, $("lobby-list"), lobbyRow, updateLobbyRow);
  sync(peopleRows, inside, $("people-list"), personRow, updatePersonRow);
  renderCaucus(inside);
  const lock = $("host-lock");
  lock.setAttribute("aria-pressed", String(Boolean(room.locked)));
  lock.textContent = room.locked ? t("host.unlock") : t("host.lock");
  $("host-locked").hidden = !room.locked;
  // Tell screen-reader users (and everyone, in the live region) who has just arrived in the lobby.
  const arrivals = lobby.filter((p) => !announced.has(p.id));
  announced = new Set(lobby.map((p) => p.id));
  if (arrivals.length) $("host-announce").textContent = t("host.lobby.arrived", { names: arrivals.map(label).join("、") });
}

// Keeps one row per person in `list`; when the row holding the focus goes (someone admitted, removed or
// gone), the focus moves to the list's heading instead of being lost.
function sync(rows, people, list, create, update) {
  const ids = new Set(people.map((p) => p.id));
  for (const [id, entry] of rows) {
    if (!ids.has(id)) {
      const focused = entry.row.contains(document.activeElement);
      entry.row.remove();
      rows.delete(id);
      if (focused) list.parentElement.querySelector("h3").focus();
    }
  }
  for (const person of people) {
    let entry = rows.get(person.id);
    if (!entry) {
      entry = create(person);
      rows.set(person.id, entry);
      list.append(entry.row);
    }
    update(entry, person);
  }
}

// --- the lobby ---------------------------------------------------------------------------------------------
function lobbyRow(person) {
  const pid = person.id;
  const facts = { consent: el("li"), warning: el("li"), identity: el("li") };
  const method = el("select", { id: `method-${pid}`, name: "method" },
    ...METHODS.map((m) => el("option", { value: m, text: t(`identity.method.${m}`) })));
  const result = el("fieldset", { className: "inline" },
    el("legend", { text: t("host.identity.result") }),
    el("label", {}, el("input", { type: "radio", name: `result-${pid}`, value: "verified", checked: true }), ` ${t("identity.verified")}`),
    el("label", {}, el("input", { type: "radio", name: `result-${pid}`, value: "failed" }), ` ${t("identity.failed")}`));
  const note = el("input", { id: `note-${pid}`, name: "note", maxlength: "500", autocomplete: "off" });
  const message = el("p", { className: "message", role: "alert" });
  const form = el("form", { className: "identity-form", "aria-label": t("host.identity.title") },
    el("div", { className: "field" }, el("label", { for: `method-${pid}`, text: t("host.identity.method") }), method),
    result,
    el("div", { className: "field" }, el("label", { for: `note-${pid}`, text: t("host.identity.note") }), note),
    el("button", { type: "submit", className: "secondary", text: t("host.identity.record") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector(`input[name="result-${pid}"]:checked`);
    const data = { participant_id: pid, method: method.value, result: chosen ? chosen.value : "verified" };
    if (note.value.trim()) data.note = note.value.trim();
    await act("check_identity", data, message);
  });
  const admit = el("button", { type: "button", text: t("host.admit") });
  admit.addEventListener("click", () => act("admit", { participant_id: pid }, message));
  const deny = el("button", { type: "button", className: "danger", text: t("host.deny") });
  deny.addEventListener("click", async () => {
    const reason = await ask({ title: t("host.deny.title", { name: label(person) }), confirm: t("host.deny"), reason: true, danger: true });
    if (reason) act("deny", { participant_id: pid, reason }, message);
  });
  const name = el("p", { className: "who" });
  const row = el("li", { className: "person", dataset: { id: pid } },
    name,
    el("ul", { className: "facts" }, facts.consent, facts.warning, facts.identity),
    form,
    message,
    el("div", { className: "actions" }, deny, admit));
  return { row, name, facts };
}

function fact(node, ok, yes, no) {
  node.textContent = ok ? `✓ ${yes}` : `✗ ${no}`;
  node.className = ok ? "ok" : "missing";
}

function updateLobbyRow(entry, person) {
  entry.name.textContent = label(person);
  const party = person.role === "applicant" || person.role === "respondent";
  fact(entry.facts.consent, person.consented || !party, t("host.consent.yes"), t("host.consent.no"));
  fact(entry.facts.warning, person.warned || !party, t("host.warning.yes"), t("host.warning.no"));
  const identity = person.identity;
  if (!identity) fact(entry.facts.identity, false, "", t("host.identity.none"));
  else {
    const method = t(`identity.method.${identity.method}`);
    fact(entry.facts.identity, identity.result === "verified", t("host.identity.verified", { method }), t("host.identity.failed", { method }));
  }
}

// --- everyone inside -----------------------------------------------------------------------------------------
function personRow(person) {
  const pid = person.id;
  const self = pid === room.you;
  const name = el("p", { className: "who" });
  const where = el("span", { className: "where" });
  const flags = el("span", { className: "flags" });
  const target = el("select", { id: `move-${pid}` });
  const move = el("button", { type: "button", className: "secondary", text: t("host.move") });
  const message = el("p", { className: "message", role: "alert" });
  move.addEventListener("click", () => act("move", { participant_id: pid, subroom: target.value }, message));
  const controls = [el("label", { for: `move-${pid}`, text: t("host.move.to") }), target, move];
  let mute = null;
  if (!self) {
    mute = el("button", { type: "button", className: "secondary", "aria-pressed": "false" });
    mute.addEventListener("click", () => act("mute", { participant_id: pid, muted: mute.getAttribute("aria-pressed") !== "true" }, message));
    const remove = el("button", { type: "button", className: "danger", text: t("host.remove") });
    remove.addEventListener("click", async () => {
      const reason = await ask({ title: t("host.remove.title", { name: label(person) }), confirm: t("host.remove"), reason: true, danger: true });
      if (reason) act("remove", { participant_id: pid, reason }, message);
    });
    controls.push(mute, remove);
  }
  const row = el("li", { className: "person", dataset: { id: pid } },
    el("div", { className: "who-line" }, name, where, flags),
    el("div", { className: "row-actions" }, ...controls),
    message);
  return { row, name, where, flags, target, mute };
}

function updatePersonRow(entry, person) {
  entry.name.textContent = person.id === room.you ? `${label(person)} · ${t("room.you")}` : label(person);
  entry.where.textContent = placeName(person.location);
  entry.row.dataset.location = person.location;
  const flags = [];
  if (person.state === "reconnecting") flags.push(t("host.reconnecting"));
  if (person.muted_by_host) flags.push(t("host.muted"));
  entry.flags.textContent = flags.join(" · ");
  const places = Object.keys(room.subrooms || { main: "" });
  const current = [...entry.target.options].map((o) => o.value);
  if (current.join() !== places.join() || [...entry.target.options].some((o, i) => o.textContent !== placeName(places[i]))) {
    const chosen = entry.target.value;
    entry.target.replaceChildren(...places.map((id) => el("option", { value: id, text: placeName(id) })));
    if (places.includes(chosen)) entry.target.value = chosen;
  }
  if (entry.mute) {
    entry.mute.setAttribute("aria-pressed", String(Boolean(person.muted_by_host)));
    entry.mute.textContent = person.muted_by_host ? t("host.unmute") : t("host.mute");
  }
}

// --- caucus -----------------------------------------------------------------------------------------------------
function renderCaucus(inside) {
  const box = $("caucus-who");
  const names = inside.map((p) => `${p.id}=${label(p)}`).join("|");
  if (box.dataset.names !== names) {
    // Rebuilt only when the people change, so a box being ticked keeps its focus across room events.
    const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
    if (box.dataset.names === undefined) checked.add(room.you); // the mediator goes along by default
    box.dataset.names = names;
    box.replaceChildren(
      ...inside.map((p) =>
        el("label", { className: "choice" },
          el("input", { type: "checkbox", value: p.id, checked: checked.has(p.id) }),
          ` ${p.id === room.you ? t("room.you") : label(p)}`)));
  }
  const places = Object.keys(room.subrooms || { main: "" });
  $("subroom-list").replaceChildren(
    ...places.map((id) => {
      const here = inside.filter((p) => p.location === id).map((p) => (p.id === room.you ? t("room.you") : label(p)));
      return el("li", { dataset: { subroom: id } },
        el("strong", { text: placeName(id) }), `：${here.length ? here.join("、") : t("host.nobody")}`);
    }));
  $("caucus-close").hidden = places.length < 2;
  const input = $("caucus-label");
  if (!input.value) input.placeholder = t("host.caucus.default", { n: places.length });
}

async function openCaucus() {
  const places = Object.keys(room.subrooms || {});
  let n = places.length;
  while (places.includes(`c${n}`)) n += 1;
  const id = `c${n}`;
  const name = $("caucus-label").value.trim() || t("host.caucus.default", { n: places.length });
  const who = [...$("caucus-who").querySelectorAll("input:checked")].map((i) => i.value);
  if (!(await act("open_subroom", { subroom: id, label: name }))) return;
  // The others first, the mediator last: the people left behind are never without the mediator meanwhile.
  who.sort((a, b) => (a === room.you) - (b === room.you));
  for (const pid of who) if (!(await act("move", { participant_id: pid, subroom: id }))) return;
  $("caucus-label").value = "";
  for (const box of $("caucus-who").querySelectorAll("input")) box.checked = box.value === room.you;
}
