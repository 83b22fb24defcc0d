// The mediator's signature in the console: the signature pad (signature_pad.js, the parties' own) inside a
// form marked data-signature-form; on submit its strokes go into the hidden "signature" field as JSON
// (what agreements/strokes.py parses). An empty pad stops the submit with a message.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-signature-form]");
  Array.prototype.forEach.call(forms, function (form) {
    var message = form.querySelector('[data-pad="message"]');
    var pad = window.TiaojieSignaturePad(form.querySelector("canvas"), {
      onchange: function () { message.textContent = ""; },
    });
    form.querySelector('[data-pad="undo"]').addEventListener("click", function () { pad.undo(); });
    form.querySelector('[data-pad="clear"]').addEventListener("click", function () { pad.clear(); });
    form.addEventListener("submit", function (event) {
      if (pad.isEmpty() || pad.full) {
        event.preventDefault();
        message.textContent = form.getAttribute("data-empty");
        return;
      }
      form.elements.signature.value = JSON.stringify(pad.toJSON());
    });
  });
})();
