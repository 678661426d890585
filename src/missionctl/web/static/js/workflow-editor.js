/*
 * Mission Control: the workflow editor's keyboard and its "Go to" buttons.
 *
 * Loaded with <script src defer> by pages/workflow_editor.html; no inline scripts or handlers.
 * Everything listens on the document, so an editor swapped in by htmx works the same, and
 * loading the file twice (htmx runs the script of a page it swaps in) adds nothing.
 *
 * - Tab and Shift+Tab indent and outdent the line(s) by two spaces, as YAML wants. Escape
 *   releases the keyboard: the next Tab moves the focus on, so the editor is never a trap.
 * - Ctrl+S (⌘S) saves.
 * - A problem's "Go to line N" / "Show step N" selects that line of the definition.
 * The text changes through execCommand("insertText") where the browser has it, so undo works
 * and htmx hears the input event that checks the text again.
 */
(function () {
  "use strict";

  if (window.missionctlWorkflowEditor) return;
  window.missionctlWorkflowEditor = true;

  var INDENT = "  ";
  var released = null; // the editor whose next Tab moves the focus on

  function editorOf(target) {
    return target && target.matches && target.matches("textarea[data-workflow-editor]") ? target : null;
  }

  function replaceRange(area, start, end, text) {
    area.focus();
    area.setSelectionRange(start, end);
    var done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch (error) {
      done = false;
    }
    if (!done) {
      area.setRangeText(text, start, end, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function indent(area, outdent) {
    var value = area.value;
    var start = area.selectionStart;
    var end = area.selectionEnd;
    if (!outdent && start === end) {
      replaceRange(area, start, end, INDENT);
      return;
    }
    var lineStart = value.lastIndexOf("\n", start - 1) + 1;
    var blockEnd = end > start && value.charAt(end - 1) === "\n" ? end - 1 : end;
    var lines = value.slice(lineStart, blockEnd).split("\n");
    var changed = lines.map(function (line) {
      if (!outdent) return INDENT + line;
      return line.replace(/^ {1,2}/, "");
    });
    var text = changed.join("\n");
    replaceRange(area, lineStart, blockEnd, text);
    var firstShift = changed[0].length - lines[0].length;
    area.setSelectionRange(Math.max(lineStart, start + firstShift), lineStart + text.length);
  }

  function selectLine(area, number) {
    var lines = area.value.split("\n");
    var index = Math.min(Math.max(number, 1), lines.length) - 1;
    var start = 0;
    for (var i = 0; i < index; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + lines[index].length);
    var style = window.getComputedStyle(area);
    var lineHeight = parseFloat(style.lineHeight) || 20;
    area.scrollTop = Math.max(0, index * lineHeight - area.clientHeight / 3);
  }

  // The line of the step at `position` (0-based) in the top-level `steps:` list, or 0.
  function stepLine(text, position) {
    var lines = text.split("\n");
    var inSteps = false;
    var itemIndent = -1;
    var seen = -1;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (/^steps\s*:/.test(line)) { inSteps = true; continue; }
      if (!inSteps) continue;
      if (/^\S/.test(line) && !/^\s*#/.test(line) && !/^-/.test(line)) break; // next top-level key
      var item = /^(\s*)-\s/.exec(line);
      if (!item) continue;
      if (itemIndent < 0) itemIndent = item[1].length;
      if (item[1].length !== itemIndent) continue;
      seen += 1;
      if (seen === position) return i + 1;
    }
    return 0;
  }

  document.addEventListener("keydown", function (event) {
    var area = editorOf(event.target);
    if (!area) return;
    if (event.key === "Escape") { released = area; return; }
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      if (area.form) area.form.requestSubmit();
      return;
    }
    if (event.key !== "Tab" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (released === area) { released = null; return; }
    event.preventDefault();
    indent(area, event.shiftKey);
  });

  document.addEventListener("focusout", function (event) {
    if (editorOf(event.target) === released) released = null;
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-goto-line], [data-goto-step]");
    if (!button) return;
    var area = document.querySelector("textarea[data-workflow-editor]");
    if (!area) return;
    var line = button.hasAttribute("data-goto-line")
      ? parseInt(button.getAttribute("data-goto-line"), 10)
      : stepLine(area.value, parseInt(button.getAttribute("data-goto-step"), 10));
    if (line > 0) selectLine(area, line);
  });
})();
