/*
 * Mission Control: the little behaviour the pages need beyond htmx.
 *
 * Loaded with <script src defer> from base.html; no inline scripts or handlers anywhere, so a
 * Content-Security-Policy without 'unsafe-inline' (and without 'unsafe-eval') can apply.
 *
 * - Toasts in #toasts dismiss themselves after a few seconds, or on their close button.
 * - htmx GET requests drop empty parameters, so filtering pushes /missions?status=running
 *   rather than /missions?q=&status=running.
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

  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail && event.detail.ctx && event.detail.ctx.request;
    if (!request || request.method !== "GET" || !(request.body instanceof FormData)) return;
    var empty = [];
    request.body.forEach(function (value, key) { if (value === "") empty.push(key); });
    empty.forEach(function (key) { request.body.delete(key); });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchToasts);
  } else {
    watchToasts();
  }
})();
