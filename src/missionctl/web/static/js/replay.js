/*
 * The replay page (pages/replay.html): step through a run's events without reloading the page.
 *
 * Previous and Next are links to ?at=SEQ and work without this file. With it:
 * - a click on Previous or Next, the Left and Right arrow keys (outside form fields), and the
 *   slider (one notch per event of the run) fetch the replay_view block for that event and put
 *   it in place of the current one;
 * - the address keeps the position (?at=SEQ, replaced, not pushed), so it can be shared;
 * - a slider dragged quickly asks only for where it rests, and an answer that arrives after a
 *   newer request was made is dropped.
 */
(function () {
  "use strict";

  var SLIDER_WAIT_MS = 120;
  var latest = 0;
  var sliderTimer = null;

  function view() {
    return document.querySelector("[data-replay]");
  }

  function seqs(element) {
    return element.getAttribute("data-seqs").split(",").map(Number);
  }

  function go(seq) {
    var current = view();
    if (!current || String(seq) === current.getAttribute("data-at")) return;
    var url = "/runs/" + current.getAttribute("data-run") + "/replay?at=" + seq;
    var ticket = ++latest;
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("replay: " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (ticket !== latest) return; // a newer position was asked for meanwhile
        var focused = document.activeElement;
        var sliderHadFocus = focused && focused.hasAttribute("data-replay-slider");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var next = holder.querySelector("[data-replay]");
        if (!next) return;
        view().replaceWith(next);
        window.history.replaceState(null, "", url);
        if (sliderHadFocus) next.querySelector("[data-replay-slider]").focus();
      })
      .catch(function () {
        window.location.assign(url); // let the server's page say what went wrong
      });
  }

  function step(offset) {
    var current = view();
    if (!current) return;
    var all = seqs(current);
    var index = all.indexOf(Number(current.getAttribute("data-at"))) + offset;
    if (index >= 0 && index < all.length) go(all[index]);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-replay-to]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    go(Number(link.getAttribute("data-replay-to")));
  });

  document.addEventListener("keydown", function (event) {
    if (!view() || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    // The slider moves itself with the arrows; text fields keep them for the caret.
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "ArrowLeft") {
      event.preventDefault();
      step(-1);
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      step(1);
    }
  });

  document.addEventListener("input", function (event) {
    var slider = event.target;
    if (!slider.hasAttribute || !slider.hasAttribute("data-replay-slider")) return;
    var all = seqs(view());
    var seq = all[Number(slider.value) - 1];
    window.clearTimeout(sliderTimer);
    sliderTimer = window.setTimeout(function () { go(seq); }, SLIDER_WAIT_MS);
  });
})();
