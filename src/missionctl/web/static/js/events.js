/*
 * The Events page's Pause / Resume button ([data-feed-pause]).
 *
 * Paused, the page stops applying new events: the live element (#live, which holds the page's
 * SSE connection) is taken out of the page, so htmx closes the stream. Resumed, a new #live
 * element connects after the newest row shown (its `after` is that row's data-seq), so the
 * server sends every matching event that arrived meanwhile, then the live ones: nothing is
 * missed and nothing is shown twice.
 */
(function () {
  "use strict";

  var parked = null; // { element, parent, next }: where #live goes back on resume

  function newestSeq() {
    var row = document.querySelector("#event-rows tr[data-seq]");
    return row ? row.getAttribute("data-seq") : null;
  }

  function pause(button) {
    var live = document.getElementById("live");
    if (!live) return;
    parked = { element: live, parent: live.parentNode, next: live.nextSibling };
    live.remove();
    button.textContent = "Resume";
    button.setAttribute("aria-pressed", "true");
    setState("Paused: new events wait until you resume");
  }

  function resume(button) {
    if (!parked) return;
    var url = new URL(parked.element.getAttribute("hx-sse:connect"), window.location.href);
    var seq = newestSeq();
    if (seq) url.searchParams.set("after", seq);
    var live = parked.element.cloneNode(true);
    live.className = "live";
    live.setAttribute("hx-sse:connect", url.pathname + url.search);
    parked.parent.insertBefore(live, parked.next);
    parked = null;
    if (window.htmx) window.htmx.process(live);
    button.textContent = "Pause";
    button.setAttribute("aria-pressed", "false");
    setState("Live");
  }

  function setState(text) {
    var state = document.querySelector("[data-feed-state]");
    if (state) state.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-feed-pause]");
    if (!button) return;
    if (parked) resume(button); else pause(button);
  });
})();
