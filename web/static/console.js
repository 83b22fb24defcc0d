// Console behaviour that pages work without: confirm irreversible actions, prevent double submits.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
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
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) buttons[i].setAttribute("disabled", "disabled");
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
