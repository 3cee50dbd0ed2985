/*
 * Navigation menus (progressive enhancement). base.html's menus are <details> elements
 * and work without script: each summary opens and closes its group, and on phones the
 * Menu button opens the whole navigation. With script:
 *   - one group open at a time (opening one closes the others);
 *   - Escape closes the open group (or, on phones, the Menu) and returns focus to its
 *     summary;
 *   - a click or focus outside the navigation closes what is open.
 */
(function () {
  "use strict";

  var menu = document.querySelector("details[data-site-menu]");
  if (!menu) {
    return;
  }
  var groups = Array.prototype.slice.call(menu.querySelectorAll("details[data-nav-group]"));

  function closeGroups(except) {
    groups.forEach(function (group) {
      if (group !== except) {
        group.open = false;
      }
    });
  }

  function closeAll() {
    closeGroups(null);
    menu.open = false;
  }

  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      if (group.open) {
        closeGroups(group);
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") {
      return;
    }
    var open = groups.filter(function (group) { return group.open; })[0];
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    } else if (menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  function outside(event) {
    if (!menu.contains(event.target)) {
      closeAll();
    }
  }
  document.addEventListener("click", outside);
  document.addEventListener("focusin", outside);
})();
