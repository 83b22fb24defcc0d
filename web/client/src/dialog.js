// One modal dialog for every confirmation (leave, end, deny, remove): focus stays inside while it is
// open, Escape cancels, and focus returns to the button that opened it. A reason is asked for when needed.
import { $, t } from "./i18n.js";

let pending = null;

// ask({title, text, confirm, reason: bool, danger: bool}) → the reason ("" without one), or null if cancelled.
export function ask({ title, text = "", confirm, reason = false, danger = false }) {
  const dialog = $("dialog");
  if (pending) pending(null);
  const opener = document.activeElement;
  $("dialog-title").textContent = title;
  $("dialog-text").textContent = text;
  $("dialog-text").hidden = !text;
  $("dialog-reason-field").hidden = !reason;
  $("dialog-reason").value = "";
  $("dialog-reason").required = reason;
  $("dialog-message").textContent = "";
  const ok = $("dialog-ok");
  ok.textContent = confirm || t("dialog.ok");
  ok.className = danger ? "danger" : "";
  return new Promise((resolve) => {
    pending = (value) => {
      pending = null;
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    dialog.showModal();
    (reason ? $("dialog-reason") : ok).focus();
  });
}

$("dialog-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!pending) return;
  const reasonWanted = !$("dialog-reason-field").hidden;
  const reason = $("dialog-reason").value.trim();
  if (reasonWanted && !reason) {
    $("dialog-message").textContent = t("dialog.reason_required");
    $("dialog-reason").focus();
    return;
  }
  pending(reason);
});
$("dialog-cancel").addEventListener("click", () => pending && pending(null));
$("dialog").addEventListener("cancel", (event) => {
  event.preventDefault();
  if (pending) pending(null);
});
