// Strings of the page's language (web/client_page.py MESSAGES, handed over as a JSON data block) and the
// small DOM helpers every part of the page uses.
export const $ = (id) => document.getElementById(id);

export const STRINGS = JSON.parse(($("strings") && $("strings").textContent) || "{}");

export const t = (key, vars = {}) =>
  (STRINGS[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));

// "name（role）" for a participant or a chat message ({name, role}).
export function label(person) {
  const role = STRINGS[`role.${person.role}`];
  return role ? `${person.name}（${role}）` : person.name;
}

// The text for an error code an acknowledgement carried, in the page's language.
export function errorText(code) {
  const key = `error.${code}`;
  return STRINGS[key] ? t(key) : t("error.unknown", { code: code || "?" });
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

// Send an event; its reply when the server accepted it, else null with the reason shown in ``messageEl``.
export async function act(call, event, data, messageEl) {
  messageEl.textContent = "";
  try {
    const reply = await call(event, data);
    if (reply && reply.ok) return reply;
    messageEl.textContent = errorText(reply && reply.error ? reply.error.code : "");
  } catch (error) {
    messageEl.textContent = t("connect.lost");
  }
  return null;
}
