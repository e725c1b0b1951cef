// hashguard review console: single-key shortcuts (the list is under "?"). Every control is
// a real button or field, so the pages work with Tab and Enter alone and without this file.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = document.getElementById("shortcuts");
    if (event.key === "Escape") {
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (typing(document.activeElement)) return;
    if (event.key === "?") {
      if (dialog && dialog.showModal) { dialog.open ? dialog.close() : dialog.showModal(); }
      event.preventDefault();
      return;
    }
    var target = document.querySelector('[data-key="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.tagName === "A" || target.tagName === "BUTTON") {
      target.click();
    } else {
      target.focus();
    }
  });
})();
