// Manual refreshes in the catalog (catalog/views.py). htmx swaps only 2xx answers by default; a refused refresh
// (429: too many refreshes, with Retry-After) carries the re-rendered entity or location row with its message, so
// it is swapped too.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status === 429 && source && source.closest("[data-refresh-form]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
