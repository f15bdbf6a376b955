// Rules between the cells of a row of an editable table (dataproducts/scaffold/forms.py, _rule_attrs): a cell
// with data-depends-on="<name of another input in its row>" is shown only while that input holds one of
// data-applies-to (a JSON list; absent = always) and is marked required for data-required-for. A hidden cell
// is also disabled, so what it held is not sent (a Length typed before the type became INT). Without this
// script every cell shows and the server says what is missing or out of place.
(function () {
  "use strict";

  function listed(cell, name) {
    var text = cell.getAttribute(name);
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  function apply(cell, firstLoad) {
    var source = document.getElementsByName(cell.getAttribute("data-depends-on"))[0];
    var value = source ? source.value : "";
    var applies = listed(cell, "data-applies-to");
    var needed = listed(cell, "data-required-for") || [];
    var shown = applies === null || applies.indexOf(value) !== -1;
    // on the first drawing a filled cell stays visible, so the server's message beside it can be read
    if (firstLoad && !shown && cell.value !== "") {
      shown = true;
    }
    cell.hidden = !shown;
    cell.disabled = !shown;
    if (needed.indexOf(value) !== -1) {
      cell.setAttribute("aria-required", "true");
    } else {
      cell.removeAttribute("aria-required");
    }
  }

  function applyAll(root, firstLoad) {
    var cells = root.querySelectorAll("[data-depends-on]");
    for (var index = 0; index < cells.length; index += 1) {
      apply(cells[index], firstLoad);
    }
  }

  document.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (!name) {
      return;
    }
    var cells = document.querySelectorAll("[data-depends-on]");
    for (var index = 0; index < cells.length; index += 1) {
      if (cells[index].getAttribute("data-depends-on") === name) {
        apply(cells[index], false);
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    applyAll(event.detail.target || document, true);
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyAll(document, true);
  });
})();
