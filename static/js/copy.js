// Copy buttons: <button type="button" data-copy="#some-id" hidden>Copy</button> copies the text of #some-id.
// The buttons are rendered hidden and shown here, so that people without JavaScript never meet a dead button;
// one listener on the document also serves buttons that htmx swaps in later. The result is announced through a
// polite live region, since a clipboard write gives no visible sign by itself.
(function () {
  "use strict";

  var status = null;

  function announce(message) {
    if (!status) {
      status = document.createElement("p");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function reveal(root) {
    var buttons = (root || document).querySelectorAll("[data-copy][hidden]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
  }

  function fallbackCopy(text) {
    // For pages served over plain http, where navigator.clipboard does not exist.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = "value" in source && source.tagName !== "BUTTON" ? source.value : source.textContent;
    copy(text).then(
      function () {
        button.classList.add("copied");
        announce("Copied to the clipboard.");
        window.setTimeout(function () { button.classList.remove("copied"); }, 2000);
      },
      function () { announce("Could not copy: select the text and copy it yourself."); }
    );
  });

  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  reveal(document);
})();
