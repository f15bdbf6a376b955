// The creation wizard (dataproducts/views/wizard.py). htmx swaps only 2xx answers by default; the wizard's
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
})();
