// Console behaviour that pages work without: confirm irreversible actions, prevent double submits, follow
// the making of a recording's playback file.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.getAttribute("data-submitted") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitted", "1");
    // After the browser has taken the form's values: a disabled button would not send its name=value
    // (the agreement editor's buttons say which operation they ask for).
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button[type=submit]");
      for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("disabled", "disabled");
    }, 0);
  });
  // A page restored from the back-forward cache must accept submissions again.
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-submitted]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].removeAttribute("data-submitted");
      var buttons = forms[i].querySelectorAll("button[type=submit]");
      for (var j = 0; j < buttons.length; j++) buttons[j].removeAttribute("disabled");
    }
  });
})();

// Recordings on the case page: while a playback file is queued or being made, ask the API every 1.5 s how
// far it got (with the console's own session cookie), move the progress bar, and show the player when it is
// ready. A failed rendering reloads the page, which then offers to try again with the reason.
(function () {
  "use strict";
  var section = document.getElementById("recordings");
  if (!section || !section.getAttribute("data-poll")) return;
  var url = section.getAttribute("data-poll");
  var PENDING = { queued: true, rendering: true };
  var INTERVAL = 1500;
  var failures = 0;

  function blocks() {
    return section.querySelectorAll("[data-render]");
  }

  function pending() {
    var list = blocks();
    for (var i = 0; i < list.length; i++) {
      if (PENDING[list[i].getAttribute("data-render-status")]) return true;
    }
    return false;
  }

  function show(block, render) {
    var status = render.status || "";
    var before = block.getAttribute("data-render-status");
    block.setAttribute("data-render-status", status);
    var box = block.querySelector(".rec-progress");
    var text = block.querySelector(".rec-progress-text");
    var bar = block.querySelector("progress");
    var player = block.querySelector(".rec-player");
    var percent = Math.max(0, Math.min(100, Math.round((render.progress || 0) * 100)));
    if (PENDING[status]) {
      box.hidden = false;
      bar.value = percent;
      bar.textContent = percent + "%";
      var wanted = status === "queued"
        ? block.getAttribute("data-text-queued")
        : block.getAttribute("data-text-rendering").replace("{percent}", String(percent));
      if (text.textContent !== wanted) text.textContent = wanted;
    } else if (status === "ready" && before !== "ready") {
      bar.value = 100;
      text.textContent = block.getAttribute("data-text-ready");
      box.hidden = true;
      player.hidden = false;
    } else if (status === "failed" && before !== "failed") {
      window.location.reload();
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (items) {
        failures = 0;
        var byId = {};
        for (var i = 0; i < items.length; i++) byId[items[i].id] = items[i];
        var list = blocks();
        for (var j = 0; j < list.length; j++) {
          var item = byId[list[j].getAttribute("data-render")];
          if (item && PENDING[list[j].getAttribute("data-render-status")]) show(list[j], item.render);
        }
        if (pending()) window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        // Offline for a moment: try again a little later (not for ever: logged out, the page still works).
        failures += 1;
        if (failures < 20) window.setTimeout(poll, INTERVAL * 4);
      });
  }

  if (pending()) window.setTimeout(poll, INTERVAL);
})();
