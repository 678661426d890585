/*
 * Copy buttons: a <button data-copy="ID"> copies the text of the element with that id (a
 * secret shown once) to the clipboard, and says so on the button. Where the clipboard is not
 * available (a page served over plain HTTP to another machine), it selects the text instead,
 * so that Ctrl-C copies it.
 */
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var text = target.textContent.trim();
    var label = button.textContent;
    function done(message) {
      button.textContent = message;
      button.setAttribute("data-copied", "true");
      window.setTimeout(function () {
        button.textContent = label;
        button.removeAttribute("data-copied");
      }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied"); },
        function () { selectText(target); done("Press Ctrl-C"); }
      );
    } else {
      selectText(target);
      done("Press Ctrl-C");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });
})();
