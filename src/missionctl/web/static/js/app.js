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
 * - The artifact being previewed is marked in the list; an open menu closes on a choice or an
 *   outside click.
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

  function start() {
    watchToasts();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
