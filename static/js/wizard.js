// The creation wizard (dataproducts/views/wizard.py). Also: the name suggested from the title (below). htmx swaps only 2xx answers by default; the wizard's
// refusals (400 a field or template problem, 403, 409 a conflict, 503 a failed step) carry the re-rendered
// wizard with its message, so they are swapped too. After each swap, and after a full-page answer that holds
// errors, focus moves to the first field in error, else to the message or the step's heading, so keyboard and
// screen-reader users land where the page changed.
(function () {
  "use strict";

  var SWAPPED_ERRORS = [400, 403, 409, 503];

  function wizardBody() {
    return document.getElementById("wizard-body");
  }

  function focusWizard(body, always) {
    var target = body.querySelector("[aria-invalid='true'], [role='alert'] [data-wizard-focus]");
    if (!target && always) {
      target = body.querySelector("[data-wizard-focus]");
    }
    if (target) {
      target.focus();
    }
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var body = wizardBody();
    if (body && event.detail.target === body && SWAPPED_ERRORS.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var body = wizardBody();
    if (body && event.detail.target === body) {
      focusWizard(body, true);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var body = wizardBody();
    if (body) {
      focusWizard(body, false);
    }
  });

  // The name (part of the id) suggested from the title as the person types it: lower-case letters, digits and
  // hyphens, starting with a letter, as long as the field allows. A name the person typed themselves is theirs:
  // it is followed only while it still equals the last suggestion (or is empty).
  function suggestedName(title, maxLength) {
    var name = title.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    name = name.replace(/[^a-z0-9]+/g, "-").replace(/^[^a-z]+/, "");
    return name.slice(0, maxLength).replace(/-+$/, "");
  }

  document.addEventListener("input", function (event) {
    var title = event.target;
    if (!title || !title.id) {
      return;
    }
    var names = document.querySelectorAll("[data-suggest-from]");
    for (var index = 0; index < names.length; index += 1) {
      var name = names[index];
      if (name.getAttribute("data-suggest-from") !== title.id || name.disabled) {
        continue;
      }
      var last = name.getAttribute("data-suggested") || "";
      if (name.value === "" || name.value === last) {
        var suggestion = suggestedName(title.value, parseInt(name.getAttribute("maxlength"), 10) || 40);
        name.value = suggestion;
        name.setAttribute("data-suggested", suggestion);
      }
    }
  });
})();
