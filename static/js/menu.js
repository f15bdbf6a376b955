// The header menu: a <details> that base.html renders open, so the navigation works without JavaScript. On a
// narrow screen it is folded behind its "Menu" summary, so the header takes one row instead of three; on a wide
// one it stays open and the summary is hidden by meshforge.css. Following the width (not only the first paint)
// keeps a rotated phone or a resized window consistent.
(function () {
  "use strict";

  var NARROW = window.matchMedia("(max-width: 47.99rem)");

  function fit() {
    var menu = document.querySelector(".site-menu");
    if (menu) {
      menu.open = !NARROW.matches;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fit);
  } else {
    fit();
  }
  NARROW.addEventListener("change", fit);
})();
