/*
 * Copy buttons (progressive enhancement). Markup:
 *   <input id="feed-url" readonly value="...">
 *   <button type="button" data-copy-from="feed-url" data-copy-status="feed-url-copied" hidden>Copy</button>
 *   <p id="feed-url-copied" aria-live="polite"></p>
 * Without JavaScript the button stays hidden and the address stays in its read-only field.
 * With it, the button appears; a click copies the field's value and says so in the live region.
 */
(function () {
  "use strict";

  function announce(region, message) {
    if (!region) {
      return;
    }
    // Empty first, so a second click is announced again.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  function copyBySelection(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(field) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(field.value).then(
        function () { return true; },
        function () { return copyBySelection(field); }
      );
    }
    return Promise.resolve(copyBySelection(field));
  }

  function enhance(button) {
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var region = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(field).then(function (copied) {
        if (copied) {
          announce(region, "Copied");
        } else {
          field.focus();
          field.select();
          announce(region, "Couldn't copy. The address is selected: copy it with your keyboard.");
        }
      });
    });
  }

  document.querySelectorAll("button[data-copy-from]").forEach(enhance);
})();
