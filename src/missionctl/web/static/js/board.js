/*
 * The board page (pages/board.html): the keyboard moves between cards, as on a Kanban board.
 *
 * With the focus on a card ([data-card], or a link or button in it):
 * - ArrowDown or j, ArrowUp or k: the next or previous card of its column;
 * - ArrowRight or l, ArrowLeft or h: in the nearest column on that side that has cards, the
 *   card at the same place, or its last card when the column is shorter;
 * - Home, End: the first or last card of its column;
 * - Enter (on the card itself): opens it, as a click on its title does.
 * Keys typed in a form field, or with Ctrl, Alt, Meta or Shift held, are left to the browser.
 *
 * Roving tabindex: one card is in the tab order (tabindex 0: the one last focused, else the
 * first), every other card has -1, and so have the links and buttons of every card but that
 * one; the title link never needs a stop of its own, Enter opens it. So Tab enters the board at
 * that card and leaves it after the card's own actions, however many cards there are.
 *
 * The live stream and the filters replace the columns (#board) with new elements. The card
 * that had the focus gets it back, found again by its data-card (mission id and task key), or
 * the card now at its place when it has gone (it moved to another column, or was filtered out).
 */
(function () {
  "use strict";

  // htmx runs the scripts of a body it swaps in again (HX-Location): listen once.
  if (window.missionctlBoardKeys) return;
  window.missionctlBoardKeys = true;

  var CARD = ".board-card[data-card]";
  var CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  var MOVES = {
    ArrowDown: "down", j: "down",
    ArrowUp: "up", k: "up",
    ArrowRight: "right", l: "right",
    ArrowLeft: "left", h: "left",
    Home: "first", End: "last",
  };

  var current = null; // { key, column, index } of the card in the tab order
  var focused = null; // the same, with the board and the control focused, before a swap
  var synced = null; // the #board element whose tab order is set
  var scrolled = null; // how far the board and each column were scrolled, before a swap

  function board() {
    return document.getElementById("board");
  }

  function columnsOf(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-column]"));
  }

  function cardsOf(column) {
    return Array.prototype.slice.call(column.querySelectorAll(CARD));
  }

  function placeOf(card) {
    var column = card.closest("[data-column]");
    return {
      key: card.getAttribute("data-card"),
      column: column.getAttribute("data-column"),
      index: cardsOf(column).indexOf(card),
    };
  }

  // The card ``place`` names: the same card if it is still on the board, else the one now at
  // its place in its column (or that column's last), else the board's first card.
  function cardAt(root, place) {
    var all = root.querySelectorAll(CARD);
    if (!place) return all[0] || null;
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-card") === place.key) return all[i];
    }
    var column = root.querySelector('[data-column="' + place.column + '"]');
    var cards = column ? cardsOf(column) : [];
    return cards[Math.min(place.index, cards.length - 1)] || all[0] || null;
  }

  function controlsOf(card) {
    return Array.prototype.slice.call(card.querySelectorAll(CONTROLS));
  }

  // Put ``chosen`` alone in the tab order, with its own actions after it.
  function makeCurrent(chosen) {
    var root = board();
    if (!root || !chosen) return;
    root.querySelectorAll(CARD).forEach(function (card) {
      var on = card === chosen;
      card.setAttribute("tabindex", on ? "0" : "-1");
      controlsOf(card).forEach(function (control) {
        if (on && !control.classList.contains("board-card__title")) {
          control.removeAttribute("tabindex");
        } else {
          control.setAttribute("tabindex", "-1");
        }
      });
    });
    current = placeOf(chosen);
  }

  // Scroll ``card`` into view: its column's list and the page only as far as needed, and the
  // board sideways to a column's start (where app.css snaps it) from which the card's column
  // shows whole. Left to scrollIntoView alone, the snap would pull the board back onto a start
  // that cuts the column off.
  function reveal(card) {
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
    var root = board();
    var origin = root.getBoundingClientRect().left - root.scrollLeft;
    var box = card.closest("[data-column]").getBoundingClientRect();
    var left = box.left - origin;
    var right = box.right - origin;
    var width = root.clientWidth;
    if (left >= root.scrollLeft - 1 && right <= root.scrollLeft + width + 1) return;
    var start = columnsOf(root)
      .map(function (column) { return column.getBoundingClientRect().left - origin; })
      .find(function (at) { return at + width >= right - 1; });
    root.scrollLeft = left < root.scrollLeft || start === undefined ? left : Math.min(start, left);
  }

  function focusCard(card) {
    makeCurrent(card);
    card.focus({ preventScroll: true });
    reveal(card);
  }

  // The card a move from ``card`` lands on, or null when there is none that way.
  function target(card, move) {
    var columns = columnsOf(board());
    var place = placeOf(card);
    var at = columns.findIndex(function (c) { return c.getAttribute("data-column") === place.column; });
    var cards = cardsOf(columns[at]);
    if (move === "down") return cards[place.index + 1] || null;
    if (move === "up") return cards[place.index - 1] || null;
    if (move === "first") return cards[0];
    if (move === "last") return cards[cards.length - 1];
    var step = move === "right" ? 1 : -1;
    for (var i = at + step; i >= 0 && i < columns.length; i += step) {
      var next = cardsOf(columns[i]);
      if (next.length) return next[Math.min(place.index, next.length - 1)];
    }
    return null;
  }

  function inField(element) {
    return element.isContentEditable || !!element.closest("input, select, textarea, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.shiftKey) return;
    var element = event.target;
    var root = board();
    if (!root || !element.closest || inField(element)) return;
    var card = element.closest(CARD);
    if (!card || !root.contains(card)) return;
    if (event.key === "Enter") {
      if (element !== card) return; // a link or button in the card does its own thing
      var link = card.querySelector(".board-card__title");
      if (!link) return;
      event.preventDefault();
      link.click();
      return;
    }
    var move = MOVES[event.key];
    if (!move) return;
    event.preventDefault(); // no page scroll, even at the end of a column
    var next = target(card, move);
    if (next) focusCard(next);
  });

  // A card focused by a click or by Tab becomes the one in the tab order.
  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest(CARD);
    var root = board();
    if (card && root && root.contains(card) && card.getAttribute("tabindex") !== "0") makeCurrent(card);
  });

  // Before a swap (the columns, or another part of the page), note where the focus is and how
  // far the board and its columns are scrolled: new columns would start at the top left.
  document.addEventListener("htmx:before:swap", function () {
    var root = board();
    scrolled = root ? { left: root.scrollLeft, tops: {} } : null;
    if (root) {
      columnsOf(root).forEach(function (column) {
        scrolled.tops[column.getAttribute("data-column")] = column.querySelector(".board__cards").scrollTop;
      });
    }
    var element = document.activeElement;
    var card = root && element && root.contains(element) ? element.closest(CARD) : null;
    focused = card ? placeOf(card) : null;
    if (!card) return;
    focused.board = root;
    focused.control = controlsOf(card).indexOf(element);
  });

  // After a swap that replaced the columns: the tab order again, and the focus back where it
  // was, unless it went elsewhere meanwhile. Another swap (the health strip's, every few
  // seconds) leaves both alone, and keeps the note for the columns' own swap.
  function restore() {
    var root = board();
    if (!root || root === synced) return;
    if (synced && scrolled) scrollLike(root, scrolled);
    synced = root;
    var place = focused && focused.board !== root ? focused : null;
    focused = null;
    var card = cardAt(root, place || current);
    makeCurrent(card);
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!card || !place || !lost) return;
    var same = card.getAttribute("data-card") === place.key;
    var control = same && place.control >= 0 ? controlsOf(card)[place.control] : null;
    (control || card).focus({ preventScroll: true });
    reveal(card);
  }

  function scrollLike(root, before) {
    root.scrollLeft = before.left;
    columnsOf(root).forEach(function (column) {
      var top = before.tops[column.getAttribute("data-column")];
      if (top) column.querySelector(".board__cards").scrollTop = top;
    });
  }
  document.addEventListener("htmx:after:swap", restore);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();
