// The edit page (dataproducts/templates/dataproducts/edit.html): after Preview the answer is a new page whose
// diff sits at the top; focus moves to its heading (data-focus-on-load) so keyboard and screen-reader users
// land on the result, and the page scrolls there for everyone else.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector("[data-focus-on-load]");
    if (target) {
      target.focus();
      target.scrollIntoView({ block: "start" });
    }
  });
})();
