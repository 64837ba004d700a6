/* Progressive enhancements for the portal; every page works without this file. */
(function () {
  "use strict";
  // Ask before irreversible one-click actions (buttons with data-confirm).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = button && button.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      event.preventDefault();
    }
  });
})();
