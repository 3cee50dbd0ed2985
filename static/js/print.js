/*
 * Print buttons (progressive enhancement). Markup:
 *   <button type="button" data-print hidden>Print sign-in sheet</button>
 * Without JavaScript the button stays hidden and the browser's own Print command does the
 * same. With it, the button appears and opens the print dialog; the print stylesheet
 * decides what goes on paper.
 */
(function () {
  "use strict";

  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
