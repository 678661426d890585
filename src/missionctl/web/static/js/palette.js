/*
 * Mission Control: the command palette (components/palette.html, docs/palette.md, ADR 0062).
 *
 * Loaded with <script src defer> from base.html, like app.js: no inline script or handler, so
 * the Content-Security-Policy needs no 'unsafe-inline'.
 *
 * - Ctrl-K or ⌘K opens and closes it anywhere; "/" opens it when the focus is not in a field
 *   where "/" is text. The sidebar's trigger ([data-palette-open]) opens it too.
 * - Typing asks GET /api/v1/palette for the best matches (debounced; an answer to an older
 *   query is dropped). Titles are put in as text, the matched letters marked.
 * - ↑ ↓ (and Home, End) move through the results, Enter opens the one chosen; Tab stays in the
 *   dialog; Esc goes back from a confirmation, else closes and gives the focus back.
 * - An action either opens a page (GET) or posts to an existing API route with the session's
 *   CSRF token. Destructive ones (cancel, reject, emergency stop) ask first, and a reason when
 *   the route takes one; a refusal is shown in the dialog with the server's own message.
 */
(function () {
  "use strict";

  var API = "/api/v1/palette";
  var LIMIT = 20;
  var DEBOUNCE_MS = 90;
  var KIND_LABELS = {
    mission: "Mission", run: "Run", workflow: "Workflow", agent: "Agent", worker: "Worker",
    schedule: "Schedule", page: "Page", action: "Action", template: "Template"
  };

  var state = {
    items: [], active: -1, seq: 0, timer: 0, controller: null, pending: null, opener: null
  };

  function dialog() { return document.getElementById("palette"); }
  function part(name) {
    var root = dialog();
    return root ? root.querySelector("[data-palette-" + name + "]") : null;
  }

  function isMac() {
    return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");
  }

  // --- Opening and closing ------------------------------------------------------------------

  function open() {
    var root = dialog();
    if (!root || root.open) return;
    state.opener = document.activeElement;
    showList();
    root.showModal();
    var input = part("input");
    input.value = "";
    input.focus();
    search("");
  }

  function close() {
    var root = dialog();
    if (!root || !root.open) return;
    if (state.controller) state.controller.abort();
    window.clearTimeout(state.timer);
    root.close();
  }

  // The dialog closed (Esc, close()): give the focus back to where it was.
  document.addEventListener("close", function (event) {
    if (event.target !== dialog()) return;
    var back = state.opener;
    state.opener = null;
    if (back && typeof back.focus === "function" && document.contains(back)) back.focus();
  }, true);

  function editable(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    var field = target.closest("input, textarea, select, [contenteditable]");
    if (!field) return false;
    if (field.tagName !== "INPUT") return true;
    return !/^(button|checkbox|radio|submit|reset|range|color|file|image)$/i.test(field.type);
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey
        && (event.key === "k" || event.key === "K")) {
      if (!dialog()) return;
      event.preventDefault();
      if (dialog().open) close(); else open();
      return;
    }
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey
        && !editable(event.target) && dialog() && !dialog().open) {
      event.preventDefault();
      open();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-palette-open]")) {
      event.preventDefault();
      open();
      return;
    }
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    var root = dialog();
    if (root && root.open && event.target === root) {
      var box = root.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right
        && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) close();
    }
  });

  // --- Searching ----------------------------------------------------------------------------

  function setStatus(text) {
    var status = part("status");
    if (status) status.textContent = text;
  }

  function search(query) {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(function () { fetchItems(query); }, query ? DEBOUNCE_MS : 0);
  }

  function fetchItems(query) {
    var seq = ++state.seq;
    if (state.controller) state.controller.abort();
    state.controller = new AbortController();
    var busy = part("busy");
    if (busy) busy.hidden = false;
    var url = API + "?limit=" + LIMIT + "&q=" + encodeURIComponent(query);
    fetch(url, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
      signal: state.controller.signal
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (seq !== state.seq) return;
      if (busy) busy.hidden = true;
      if (!answer.ok) {
        render([], query);
        setStatus(errorText(answer.body, "The search failed."));
        return;
      }
      render(answer.body.items || [], query);
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      if (seq !== state.seq) return;
      if (busy) busy.hidden = true;
      render([], query);
      setStatus("The server could not be reached. Try again in a moment.");
    });
  }

  function errorText(body, fallback) {
    var error = body && body.error;
    if (!error) return fallback;
    var detail = error.details && error.details[0];
    var message = detail && detail.message ? detail.message : error.message;
    return message ? message.charAt(0).toUpperCase() + message.slice(1) : fallback;
  }

  var SEPARATOR = /[\s\-_.\/:·,;()[\]{}'"#@]/;

  function wordStarts(title) {
    var starts = [];
    for (var i = 0; i < title.length; i++) {
      var previous = i ? title.charAt(i - 1) : " ";
      var char = title.charAt(i);
      starts.push(!SEPARATOR.test(char) && (SEPARATOR.test(previous)
        || (previous !== previous.toUpperCase() && char !== char.toLowerCase())));
    }
    return starts;
  }

  // The letters of ``title`` the query's words matched, read as the server scores them
  // (domain/palette.py): a substring, a word-starting one first; else the letters in order,
  // each taken at the start of a later word when there is one (in a query of several words,
  // only initials: the server matches no scattered letters there).
  function marks(title, query) {
    var lower = title.toLowerCase();
    var starts = wordStarts(title);
    var marked = new Array(title.length);
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    words.forEach(function (word) {
      var at = lower.indexOf(word);
      var first = at;
      while (at >= 0 && !starts[at]) at = lower.indexOf(word, at + 1);
      if (at < 0) at = first;
      if (at >= 0) {
        for (var i = at; i < at + word.length; i++) marked[i] = true;
        return;
      }
      var positions = [];
      var from = 0;
      for (var c = 0; c < word.length; c++) {
        var char = word.charAt(c);
        var found = lower.indexOf(char, from);
        if (found < 0) return;
        for (var later = found; !starts[found] && later >= 0; later = lower.indexOf(char, later + 1)) {
          if (starts[later]) { found = later; break; }
        }
        positions.push(found);
        from = found + 1;
      }
      // In a query of several words only initials count: each letter starts a word.
      if (words.length > 1 && !positions.every(function (p) { return starts[p]; })) return;
      positions.forEach(function (p) { marked[p] = true; });
    });
    return marked;
  }

  function titleNode(title, query) {
    var node = document.createElement("span");
    node.className = "palette__title";
    var marked = marks(title, query);
    var run = "";
    var inMark = false;
    function flush() {
      if (!run) return;
      if (inMark) {
        var mark = document.createElement("mark");
        mark.className = "palette__hit";
        mark.textContent = run;
        node.appendChild(mark);
      } else {
        node.appendChild(document.createTextNode(run));
      }
      run = "";
    }
    for (var i = 0; i < title.length; i++) {
      var isMarked = !!marked[i];
      if (isMarked !== inMark) { flush(); inMark = isMarked; }
      run += title.charAt(i);
    }
    flush();
    return node;
  }

  function icon(kind) {
    var template = dialog().querySelector('template[data-palette-icon="' + kind + '"]');
    var box = document.createElement("span");
    box.className = "palette__icon palette__icon--" + kind;
    box.setAttribute("aria-hidden", "true");
    if (template) box.appendChild(template.content.cloneNode(true));
    return box;
  }

  function option(item, index, query) {
    var li = document.createElement("li");
    li.id = "palette-option-" + index;
    li.className = "palette__item";
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.setAttribute("data-index", String(index));
    li.setAttribute("data-kind", item.kind);
    li.appendChild(icon(item.kind));
    var text = document.createElement("span");
    text.className = "palette__text";
    text.appendChild(titleNode(item.title, query));
    if (item.subtitle) {
      var subtitle = document.createElement("span");
      subtitle.className = "palette__subtitle";
      subtitle.textContent = item.subtitle;
      text.appendChild(subtitle);
    }
    li.appendChild(text);
    var kind = document.createElement("span");
    var danger = item.action && item.action.danger;
    kind.className = "palette__kind" + (danger ? " palette__kind--danger" : "");
    kind.textContent = KIND_LABELS[item.kind] || item.kind;
    li.appendChild(kind);
    return li;
  }

  function render(items, query) {
    state.items = items;
    var list = part("list");
    list.replaceChildren();
    items.forEach(function (item, index) { list.appendChild(option(item, index, query)); });
    setStatus(items.length ? "" : (query ? "Nothing matches “" + query + "”." : "Nothing to show yet."));
    setActive(items.length ? 0 : -1);
  }

  function setActive(index) {
    var list = part("list");
    var input = part("input");
    state.active = index;
    list.querySelectorAll("[role=option]").forEach(function (li) {
      li.setAttribute("aria-selected", li.getAttribute("data-index") === String(index) ? "true" : "false");
    });
    var chosen = index >= 0 ? document.getElementById("palette-option-" + index) : null;
    if (chosen) {
      input.setAttribute("aria-activedescendant", chosen.id);
      chosen.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    var count = state.items.length;
    if (!count) return;
    setActive((state.active + step + count) % count);
  }

  // --- Choosing -----------------------------------------------------------------------------

  function choose(index) {
    var item = state.items[index];
    if (!item) return;
    var action = item.action;
    if (!action) { go(item.url); return; }
    if (action.method === "GET") { go(action.url); return; }
    if (action.confirm || action.reason !== "none" || action.number) { showConfirm(item); return; }
    perform(item, "");
  }

  // Close first: a link to this very page with another #anchor only scrolls it.
  function go(url) {
    close();
    window.location.assign(url);
  }

  function showList() {
    var confirm = part("confirm");
    state.pending = null;
    if (confirm) confirm.hidden = true;
    dialog().classList.remove("palette--confirming");
    part("list").hidden = false;
    part("input").disabled = false;
  }

  function showConfirm(item) {
    var action = item.action;
    state.pending = item;
    dialog().classList.add("palette--confirming");
    part("list").hidden = true;
    setStatus("");
    part("input").disabled = true;
    part("confirm-title").textContent = item.title;
    part("question").textContent = action.confirm || item.subtitle || "";
    var reason = part("reason");
    var field = part("reason-input");
    reason.hidden = action.reason === "none";
    field.value = "";
    field.required = action.reason === "required";
    part("reason-tag").textContent = action.reason === "required" ? "Required" : "Optional";
    field.placeholder = action.reason === "required" ? "Why it must not go ahead" : "Recorded in the audit log";
    var number = part("number");
    var numberField = part("number-input");
    number.hidden = !action.number;
    if (action.number) {
      part("number-label").textContent = action.number.label;
      numberField.min = action.number.minimum;
      numberField.max = action.number.maximum;
      numberField.value = action.number.value;
    }
    var error = part("error");
    error.hidden = true;
    error.textContent = "";
    var button = part("go");
    button.textContent = action.label || "Confirm";
    button.className = "btn " + (action.danger ? "btn--estop-solid" : "btn--primary");
    dialog().classList.toggle("palette--danger", !!action.danger);
    part("confirm").hidden = false;
    (action.number ? numberField : reason.hidden ? button : field).focus();
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function perform(item, reason, number) {
    var action = item.action;
    var body = Object.assign({}, action.body || {});
    if (reason) body.reason = reason;
    if (action.number) body[action.number.field] = number;
    var button = part("go");
    if (button) button.disabled = true;
    fetch(action.url, {
      method: action.method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return { ok: response.ok, body: answer };
      });
    }).then(function (result) {
      if (button) button.disabled = false;
      if (!result.ok) { refused(item, errorText(result.body, "The server refused it.")); return; }
      if (action.then) {
        window.location.assign(action.then.replace("{id}", encodeURIComponent(result.body.id || "")));
        return;
      }
      close();
      toast("success", action.done || item.title, item.subtitle);
    }).catch(function () {
      if (button) button.disabled = false;
      refused(item, "The server could not be reached. Nothing was changed.");
    });
  }

  function refused(item, message) {
    if (state.pending === item) {
      var error = part("error");
      error.textContent = message;
      error.hidden = false;
      return;
    }
    toast("error", message, item.title);
  }

  function toast(kind, message, detail) {
    var template = dialog().querySelector('template[data-palette-toast="' + kind + '"]');
    var region = document.getElementById("toasts");
    if (!template || !region) return;
    var node = template.content.firstElementChild.cloneNode(true);
    node.querySelector(".toast__message").textContent = message;
    if (detail) {
      var line = document.createElement("p");
      line.className = "toast__detail";
      line.textContent = detail;
      node.querySelector(".toast__text").appendChild(line);
    }
    region.appendChild(node);  // app.js dismisses it after a few seconds
  }

  // --- Keys and pointer inside the dialog ---------------------------------------------------

  function focusables() {
    return Array.prototype.filter.call(
      dialog().querySelectorAll("input, button, [tabindex]:not([tabindex='-1'])"),
      function (el) { return !el.disabled && !el.closest("[hidden]") && el.getClientRects().length; }
    );
  }

  function trapTab(event) {
    var all = focusables();
    if (!all.length) { event.preventDefault(); return; }
    var at = all.indexOf(document.activeElement);
    var next = event.shiftKey ? at - 1 : at + 1;
    if (next < 0) next = all.length - 1;
    if (next >= all.length) next = 0;
    event.preventDefault();
    all[next].focus();
  }

  document.addEventListener("keydown", function (event) {
    var root = dialog();
    if (!root || !root.open || !root.contains(event.target)) return;
    if (event.key === "Tab") { trapTab(event); return; }
    if (event.key === "Escape") {
      event.preventDefault();
      if (state.pending) { showList(); part("input").focus(); } else { close(); }
      return;
    }
    if (state.pending) return;  // the confirmation form handles its own keys
    var keys = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in keys) { event.preventDefault(); move(keys[event.key]); return; }
    if (event.key === "Home" && event.ctrlKey) { event.preventDefault(); setActive(state.items.length ? 0 : -1); return; }
    if (event.key === "End" && event.ctrlKey) { event.preventDefault(); setActive(state.items.length - 1); return; }
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      if (state.active >= 0) choose(state.active);
    }
  });

  // The native dialog's own Esc handling would close it even from a confirmation.
  document.addEventListener("cancel", function (event) {
    if (event.target === dialog()) event.preventDefault();
  }, true);

  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-palette-input")) {
      search(event.target.value.trim());
    }
  });

  document.addEventListener("submit", function (event) {
    if (!event.target.hasAttribute || !event.target.hasAttribute("data-palette-confirm")) return;
    event.preventDefault();
    var item = state.pending;
    if (!item) return;
    var reason = part("reason-input").value.trim();
    if (item.action.reason === "required" && !reason) {
      refused(item, "A reason is required, so that others know why; write one.");
      part("reason-input").focus();
      return;
    }
    var number = null;
    if (item.action.number) {
      var limits = item.action.number;
      number = Number(part("number-input").value);
      if (!Number.isInteger(number) || number < limits.minimum || number > limits.maximum) {
        refused(item, limits.label + ": give a whole number from " + limits.minimum + " to " + limits.maximum + ".");
        part("number-input").focus();
        return;
      }
    }
    perform(item, reason, number);
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target;
    if (!target || !dialog() || !dialog().contains(target)) return;
    if (target.closest("[data-palette-back]")) { showList(); part("input").focus(); return; }
    var li = target.closest(".palette__item");
    if (li) choose(Number(li.getAttribute("data-index")));
  });

  document.addEventListener("mousemove", function (event) {
    var li = event.target.closest && event.target.closest(".palette__item");
    if (li && dialog().contains(li)) {
      var index = Number(li.getAttribute("data-index"));
      if (index !== state.active) setActive(index);
    }
  });

  function start() {
    document.querySelectorAll("[data-palette-shortcut]").forEach(function (kbd) {
      kbd.textContent = isMac() ? "⌘K" : "Ctrl K";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
