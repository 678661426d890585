/*
 * Mission Control: the little behaviour the pages need beyond htmx.
 *
 * Loaded with <script src defer> from base.html; no inline scripts or handlers anywhere, so a
 * Content-Security-Policy without 'unsafe-inline' (and without 'unsafe-eval') can apply.
 *
 * - Toasts in #toasts dismiss themselves after a few seconds, or on their close button.
 * - htmx requests that change state send the CSRF token of <meta name="csrf-token">.
 * - htmx GET requests drop empty parameters, so filtering pushes /missions?status=running
 *   rather than /missions?q=&status=running.
 * - The live indicator (#live, the element holding the page's SSE connection) shows whether
 *   the stream is connected or reconnecting, from the hx-sse extension's events; a first
 *   connection that fails is tried again.
 * - Durations of running tasks ([data-running-since]) tick every second between updates.
 * - Times (<time datetime data-time>, from the Jinja filters clock, full_datetime and
 *   relative_time) show the viewer's local time with its zone; relative ones ("3 min ago")
 *   stay fresh. The same holds for times that htmx or the live stream swap in later.
 * - A control saved as it changes ([data-inline-save]: the agents page) goes back to what the
 *   server holds when the server refuses the change; the error toast says why.
 * - Graphs ([data-graph], components/graph.html) fit their frame's width; the toolbar, the keys
 *   -, + and 0, and Ctrl + the wheel zoom; dragging pans. A graph the live stream redraws keeps
 *   its zoom and scroll position.
 * - The artifact being previewed is marked in the list; an open menu closes on a choice or an
 *   outside click.
 * - The system-health strip (#health-poll, components/health_strip.html) asks for fresh figures
 *   every HEALTH_MS while the tab is visible, and at once when it becomes visible again: a
 *   hidden tab costs the server nothing (ADR 0043).
 * - The insights cockpit: editing a date of its filter bar picks the "Custom" range first (a
 *   preset would ignore the dates); a metric's tooltip hides on Escape until the pointer or
 *   the focus leaves it; a panel whose fragment could not be fetched at all (no answer from
 *   the server) shows its "did not load" message with Retry instead of loading forever.
 * - On a narrow screen the sidebar is a bar with the brand and a Menu button
 *   ([data-menu-toggle], base.html; the breakpoint is in app.css, "Narrow screens"): the
 *   button opens and closes the rest of the sidebar (#sidebar-menu) over the page and says
 *   which through aria-expanded. Escape closes an open menu and gives the focus back to its
 *   button; a click outside it, a choice in it and a window grown past the breakpoint (where
 *   the whole sidebar shows again) close it too.
 */
(function () {
  "use strict";

  var TOAST_MS = 5000;

  function dismiss(toast) {
    if (!toast || toast.classList.contains("toast--leaving")) return;
    toast.classList.add("toast--leaving");
    // Remove after the fade-out; the timer covers reduced motion (no animationend event).
    window.setTimeout(function () { toast.remove(); }, 250);
  }

  function schedule(toast) {
    if (toast.hasAttribute("data-toast-scheduled")) return;
    toast.setAttribute("data-toast-scheduled", "");
    window.setTimeout(function () { dismiss(toast); }, TOAST_MS);
  }

  function watchToasts() {
    var region = document.getElementById("toasts");
    if (!region) return;
    var scan = function () { region.querySelectorAll("[data-toast]").forEach(schedule); };
    scan();
    new MutationObserver(scan).observe(region, { childList: true });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-toast-close]");
    if (button) dismiss(button.closest("[data-toast]"));
  });

  // Every request that changes state carries the session's CSRF token (the server refuses a
  // cookie-authenticated POST without it).
  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail && event.detail.ctx && event.detail.ctx.request;
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (!request || !meta || request.method === "GET") return;
    request.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail && event.detail.ctx && event.detail.ctx.request;
    if (!request || request.method !== "GET" || !(request.body instanceof FormData)) return;
    var empty = [];
    request.body.forEach(function (value, key) { if (value === "") empty.push(key); });
    empty.forEach(function (key) { request.body.delete(key); });
  });

  function setLive(state) {
    var live = document.getElementById("live");
    if (!live) return;
    live.classList.toggle("live--connected", state === "connected");
    live.classList.toggle("live--reconnecting", state === "reconnecting");
    var text = live.querySelector(".live__text");
    if (text) text.textContent = state === "reconnecting" ? "Reconnecting" : "Live";
  }

  var liveAttempts = 0;

  document.addEventListener("htmx:sse:after:connection", function () {
    liveAttempts = 0;
    setLive("connected");
  });
  document.addEventListener("htmx:sse:error", function () { setLive("reconnecting"); });
  document.addEventListener("htmx:sse:close", function () { setLive("closed"); });

  // The extension reconnects a stream that drops, but not one whose first request failed (the
  // server was restarting, say): try that again here, backing off up to 30 s.
  function retryLive(event) {
    var live = document.getElementById("live");
    if (!live || event.target !== live || live.classList.contains("live--connected")) return;
    setLive("reconnecting");
    var delay = Math.min(30000, 1000 * Math.pow(2, liveAttempts++));
    window.setTimeout(function () {
      if (document.getElementById("live") !== live || live.classList.contains("live--connected")) return;
      window.htmx.ajax("GET", live.getAttribute("hx-sse:connect"), { source: live });
    }, delay);
  }
  document.addEventListener("htmx:error", retryLive);
  document.addEventListener("htmx:response:error", retryLive);

  function duration(seconds) {
    if (seconds < 10) return seconds.toFixed(1) + " s";
    if (seconds < 60) return Math.round(seconds) + " s";
    var total = Math.round(seconds);
    var minutes = Math.floor(total / 60);
    if (minutes < 60) return minutes + " min " + (total % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-running-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-running-since"));
      if (!isNaN(since)) el.textContent = duration(Math.max(0, (now - since) / 1000));
    });
  }

  // --- Local times --------------------------------------------------------------------------
  // The server writes UTC (the fallback text, and the exact instant as the tooltip); the viewer
  // reads their own clock. Styles: "clock" (time of day), "datetime" (date and time), "relative"
  // (how long ago, as web/templating.py relative_time says it; its tooltip adds the local time).

  var CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" };
  var DATETIME = {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short"
  };
  var DATE = { day: "numeric", month: "short", year: "numeric" };
  var formats = {};

  function format(options, moment) {
    var key = JSON.stringify(options);
    if (!formats[key]) formats[key] = new Intl.DateTimeFormat(undefined, options);
    return formats[key].format(moment);
  }

  function relative(moment, now) {
    var seconds = (now - moment.getTime()) / 1000;
    if (seconds < -60 || seconds >= 7 * 86400) return format(DATE, moment);
    if (seconds < 45) return "just now";
    if (seconds < 3600) return Math.max(1, Math.round(seconds / 60)) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    var days = Math.floor(seconds / 86400);
    return days === 1 ? "yesterday" : days + " days ago";
  }

  function localize(el, now) {
    var moment = new Date(el.getAttribute("datetime"));
    if (isNaN(moment.getTime())) return;
    var style = el.getAttribute("data-time");
    var text;
    if (style === "relative") {
      text = relative(moment, now);
      if (!el.hasAttribute("data-utc-title")) el.setAttribute("data-utc-title", el.title);
      el.title = format(DATETIME, moment) + " (" + el.getAttribute("data-utc-title") + ")";
    } else {
      text = format(style === "clock" ? CLOCK : DATETIME, moment);
    }
    if (el.textContent !== text) el.textContent = text;
  }

  function localizeTimes() {
    var now = Date.now();
    document.querySelectorAll("time[datetime][data-time]").forEach(function (el) {
      localize(el, now);
    });
  }

  // Fragments swapped in by htmx requests and by the live stream (hx-sse swaps through htmx).
  document.addEventListener("htmx:after:swap", localizeTimes);
  document.addEventListener("htmx:after:settle", localizeTimes);

  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest(".artifact-item");
    if (item) {
      document.querySelectorAll(".artifact-item[aria-current]").forEach(function (el) {
        el.removeAttribute("aria-current");
      });
      item.setAttribute("aria-current", "true");
    }
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      var summary = menu.querySelector("summary");
      if (!summary || !summary.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Length counters (field(counter=True)): the browser cuts a text at maxlength without a word,
  // so the count turns to a warning near the limit and says so once it is reached.
  function count(control) {
    var counter = document.querySelector('[data-counter-for="' + control.id + '"]');
    if (!counter) return;
    var max = Number(counter.getAttribute("data-max"));
    var used = control.value.length;
    var text = used.toLocaleString("en-US") + " / " + max.toLocaleString("en-US");
    counter.textContent = used >= max ? text + " · limit reached" : text;
    counter.classList.toggle("field__counter--near", used >= max * 0.9 && used < max);
    counter.classList.toggle("field__counter--full", used >= max);
  }

  document.addEventListener("input", function (event) {
    if (event.target.id) count(event.target);
  });


  // A refused inline change must not leave its control showing what was not saved.
  document.addEventListener("htmx:response:error", function (event) {
    var form = event.target.closest && event.target.closest("form[data-inline-save]");
    if (form) form.reset();
  });

  // --- Graph zoom and pan ---------------------------------------------------------------------
  // "Fit" is CSS (max-width: 100%); a zoomed graph gets an explicit size and the frame scrolls.
  // The state lives here by the frame's data-graph name, since live updates replace the frame.

  var ZOOM_STEP = 1.25;
  var ZOOM_MAX = 3;
  var ZOOM_MIN = 0.1;
  var graphZoom = {};

  function graphParts(frame) {
    var svg = frame.querySelector("svg.graph");
    var box = svg && svg.viewBox && svg.viewBox.baseVal;
    if (!box || !box.width) return null;
    return {
      svg: svg, scroll: frame.querySelector(".graph-scroll"),
      label: frame.querySelector("[data-graph-scale]"), width: box.width, height: box.height
    };
  }

  function fitScale(parts) {
    var style = window.getComputedStyle(parts.scroll);
    var room = parts.scroll.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return Math.min(1, room / parts.width);
  }

  function applyZoom(frame) {
    var parts = graphParts(frame);
    if (!parts) return;
    var state = graphZoom[frame.getAttribute("data-graph")];
    var zoomed = state && state.scale !== null;
    frame.classList.toggle("graph-frame--zoomed", !!zoomed);
    var scale = zoomed ? state.scale : fitScale(parts);
    parts.svg.setAttribute("width", String(Math.round(parts.width * (zoomed ? scale : 1))));
    parts.svg.setAttribute("height", String(Math.round(parts.height * (zoomed ? scale : 1))));
    if (parts.label) parts.label.textContent = (zoomed ? "" : "Fit · ") + Math.round(scale * 100) + " %";
    if (zoomed) {
      parts.scroll.scrollLeft = state.left;
      parts.scroll.scrollTop = state.top;
    }
  }

  function zoom(frame, how) {
    var parts = graphParts(frame);
    if (!parts) return;
    var name = frame.getAttribute("data-graph");
    var state = graphZoom[name] || { scale: null, left: 0, top: 0 };
    var current = state.scale === null ? fitScale(parts) : state.scale;
    if (how === "fit") {
      state = { scale: null, left: 0, top: 0 };
    } else {
      var next = how === "in" ? current * ZOOM_STEP : current / ZOOM_STEP;
      next = Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, next));
      // Keep the middle of what the reader sees in the middle.
      var ratio = next / current;
      var midX = parts.scroll.scrollLeft + parts.scroll.clientWidth / 2;
      var midY = parts.scroll.scrollTop + parts.scroll.clientHeight / 2;
      state = {
        scale: next,
        left: Math.max(0, midX * ratio - parts.scroll.clientWidth / 2),
        top: Math.max(0, midY * ratio - parts.scroll.clientHeight / 2)
      };
    }
    graphZoom[name] = state;
    applyZoom(frame);
  }

  function initGraphs() {
    document.querySelectorAll("[data-graph]").forEach(applyZoom);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-graph-zoom]");
    if (button) zoom(button.closest("[data-graph]"), button.getAttribute("data-graph-zoom"));
  });

  document.addEventListener("keydown", function (event) {
    var scroll = event.target.closest && event.target.closest(".graph-scroll");
    if (!scroll || event.ctrlKey || event.metaKey || event.altKey) return;
    var how = { "+": "in", "=": "in", "-": "out", "_": "out", "0": "fit" }[event.key];
    if (!how) return;
    event.preventDefault();
    zoom(scroll.closest("[data-graph]"), how);
  });

  // Ctrl + wheel (and a trackpad's pinch, which browsers report as such) zooms; the plain wheel
  // keeps scrolling the page.
  document.addEventListener("wheel", function (event) {
    var scroll = event.target.closest && event.target.closest(".graph-scroll");
    if (!scroll || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    zoom(scroll.closest("[data-graph]"), event.deltaY < 0 ? "in" : "out");
  }, { passive: false });

  var drag = null;

  document.addEventListener("pointerdown", function (event) {
    var scroll = event.target.closest && event.target.closest(".graph-scroll");
    if (!scroll || event.button !== 0) return;
    drag = { scroll: scroll, x: event.clientX, y: event.clientY, left: scroll.scrollLeft, top: scroll.scrollTop };
    scroll.classList.add("graph-scroll--dragging");
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    drag.scroll.scrollLeft = drag.left - (event.clientX - drag.x);
    drag.scroll.scrollTop = drag.top - (event.clientY - drag.y);
  });
  document.addEventListener("pointerup", function () {
    if (!drag) return;
    drag.scroll.classList.remove("graph-scroll--dragging");
    drag = null;
  });

  // Remember where a zoomed graph was scrolled to, for the redraw after the next live update.
  document.addEventListener("scroll", function (event) {
    var scroll = event.target;
    if (!scroll.classList || !scroll.classList.contains("graph-scroll")) return;
    var state = graphZoom[scroll.closest("[data-graph]").getAttribute("data-graph")];
    if (state && state.scale !== null) {
      state.left = scroll.scrollLeft;
      state.top = scroll.scrollTop;
    }
  }, true);

  document.addEventListener("htmx:after:swap", initGraphs);
  window.addEventListener("resize", initGraphs);

  var RELATIVE_REFRESH_MS = 30000;
  var HEALTH_MS = 3000;

  function refreshHealth() {
    var poll = document.getElementById("health-poll");
    if (!poll || document.visibilityState !== "visible" || !window.htmx) return;
    window.htmx.trigger(poll, "refresh-health");
  }

  document.addEventListener("visibilitychange", refreshHealth);

  function start() {
    watchToasts();
    localizeTimes();
    initGraphs();
    window.setInterval(tick, 1000);
    window.setInterval(localizeTimes, RELATIVE_REFRESH_MS);
    window.setInterval(refreshHealth, HEALTH_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  // --- The insights cockpit -------------------------------------------------------------------

  // Capturing, so the range is "custom" before htmx (listening on the form) sends the change.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-custom-range]")) return;
    var custom = input.form && input.form.querySelector('input[name="range"][value="custom"]');
    if (custom) custom.checked = true;
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-metric-info]").forEach(function (info) {
      if (info.matches(":hover") || info.contains(document.activeElement)) {
        info.classList.add("metric__info--dismissed");
      }
    });
  });
  function undismiss(event) {
    var info = event.target.closest && event.target.closest("[data-metric-info]");
    if (info && (event.type !== "mouseleave" || event.target === info)) {
      info.classList.remove("metric__info--dismissed");
    }
  }
  document.addEventListener("mouseleave", undismiss, true);  // capturing: it does not bubble
  document.addEventListener("focusout", undismiss);

  document.addEventListener("htmx:error", function (event) {
    var panel = event.target.closest && event.target.closest("[data-panel]");
    var failed = panel && panel.querySelector("[data-panel-failed]");
    if (!failed) return;
    failed.hidden = false;
    panel.setAttribute("aria-busy", "false");
    panel.setAttribute("data-state", "error");
    var skeleton = panel.querySelector(".skeleton");
    if (skeleton) skeleton.remove();
  });
})();

// The sidebar's menu on a narrow screen (see the list above).
(function () {
  "use strict";

  var WIDE = "(min-width: 901px)";  // keep in step with the breakpoint in app.css

  function setOpen(button, open) {
    var sidebar = button.closest(".sidebar");
    if (!sidebar) return;
    sidebar.classList.toggle("sidebar--open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function openToggle() {
    return document.querySelector('.sidebar--open [data-menu-toggle]');
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (button) {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    var open = openToggle();
    if (!open) return;
    // Outside the menu, or a choice in it (a link, the palette's trigger): the menu has done.
    var inside = open.closest(".sidebar").contains(event.target);
    var chosen = event.target.closest("#sidebar-menu a, #sidebar-menu [data-palette-open]");
    if (!inside || chosen) setOpen(open, false);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = openToggle();
    if (!open) return;
    setOpen(open, false);
    open.focus();
  });

  var wide = window.matchMedia(WIDE);
  var onWide = function () {
    var open = openToggle();
    if (wide.matches && open) setOpen(open, false);
  };
  if (wide.addEventListener) wide.addEventListener("change", onWide);
})();

// Live lists keep what a reload shows (docs/guide.md, "Live lists").
(function () {
  "use strict";

  // A list with data-keep="N" keeps its newest N entries however many the live stream adds: an
  // entry is the rows sharing one data-seq (one event may render as several lines), or one row
  // when its rows have none. Rows are the children matching data-keep-items (default
  // [data-seq]); others (a log's "Attempt" headings) stay. data-keep-newest="end" says the
  // newest rows are at the end (a log the stream appends to); by default they are at the start.
  // data-keep-older names the link to older rows (or an element holding it): once rows are
  // dropped, its href (and hx-get) ask for those before the oldest row shown, and it shows.
  // Rows the reader loaded on purpose (older than any the list held) stop the trimming for
  // the rest of the page's life: the list then grows as the stream adds rows.
  function entries(list) {
    var selector = list.getAttribute("data-keep-items") || "[data-seq]";
    var rows = Array.prototype.filter.call(list.children, function (el) {
      return el.matches(selector);
    });
    if (list.getAttribute("data-keep-newest") === "end") rows.reverse();
    var groups = [];
    rows.forEach(function (row) {
      var seq = row.getAttribute("data-seq");
      var last = groups[groups.length - 1];
      if (seq !== null && last && last.seq === seq) last.rows.push(row);
      else groups.push({ seq: seq, rows: [row] });
    });
    return groups; // newest first
  }

  function oldestSeq(groups) {
    var seqs = groups.filter(function (g) { return g.seq !== null; })
      .map(function (g) { return Number(g.seq); });
    return seqs.length ? Math.min.apply(null, seqs) : null;
  }

  function pointOlder(list, seq) {
    var named = list.getAttribute("data-keep-older");
    var holder = named && document.querySelector(named);
    var link = holder && (holder.matches("a") ? holder : holder.querySelector("a"));
    if (!link || seq === null) return;
    ["href", "hx-get"].forEach(function (name) {
      var value = link.getAttribute(name);
      if (value === null) return;
      var url = new URL(value, window.location.href);
      url.searchParams.set("before", String(seq));
      link.setAttribute(name, url.pathname + url.search);
    });
    link.hidden = false;
  }

  function keep(list) {
    var limit = parseInt(list.getAttribute("data-keep"), 10);
    if (!(limit > 0) || list.hasAttribute("data-keep-paged")) return;
    var groups = entries(list);
    var floor = list.getAttribute("data-keep-floor");
    var oldest = oldestSeq(groups);
    if (floor !== null && oldest !== null && oldest < Number(floor)) {
      list.setAttribute("data-keep-paged", "");  // the reader loaded older rows: keep them all
      return;
    }
    var dropped = groups.slice(limit);
    if (dropped.length) {
      dropped.forEach(function (g) { g.rows.forEach(function (row) { row.remove(); }); });
      groups = groups.slice(0, limit);
      pointOlder(list, groups[groups.length - 1].seq);
    }
    var kept = oldestSeq(groups);
    if (kept !== null) list.setAttribute("data-keep-floor", String(kept));
  }

  function keepAll() {
    document.querySelectorAll("[data-keep]").forEach(keep);
  }

  function watch() {
    keepAll();
    new MutationObserver(function (records) {
      var lists = [];
      records.forEach(function (record) {
        var list = record.target;
        if (list.nodeType === 1 && list.hasAttribute("data-keep") && lists.indexOf(list) < 0) {
          lists.push(list);
        }
      });
      lists.forEach(keep);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
