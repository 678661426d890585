/*
 * The calendar page (pages/calendar.html).
 *
 * - The days are the viewer's. When the URL names no time zone (data-tz-chosen="false" on
 *   #calendar) the page is in UTC; if the browser's zone is another, the page is loaded again
 *   with ?tz=<that zone>, the rest of the URL kept. location.replace: the UTC page leaves no
 *   entry in the history, and a URL that names a zone is never changed.
 * - When htmx shows another day's detail (#day-detail, after a day's link), it is brought into
 *   view and focused; the live stream's swaps of the same day leave the focus alone.
 */
(function () {
  "use strict";

  // htmx runs the scripts of a body it swaps in again (HX-Location): listen once.
  if (window.missionctlCalendar) return;
  window.missionctlCalendar = true;

  var UTC_NAMES = ["UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"];
  // Chromium names some zones by their former IANA names; the page shows the names people
  // know now (both are IANA links to the same rules, so the days are the same).
  var RENAMED = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Atlantic/Faeroe": "Atlantic/Faroe",
  };
  var shownDay = null; // the day whose detail was last shown

  function browserZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      return RENAMED[zone] || zone;
    } catch (error) {
      return "";
    }
  }

  function adoptZone() {
    var root = document.getElementById("calendar");
    if (!root || root.getAttribute("data-tz-chosen") !== "false") return;
    var zone = browserZone();
    if (!zone || zone.length > 64 || UTC_NAMES.indexOf(zone) >= 0) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) return;
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }

  function detailDay() {
    var detail = document.getElementById("day-detail");
    return detail ? detail.getAttribute("data-day") : null;
  }

  function revealDetail() {
    var day = detailDay();
    if (day === shownDay) return;
    shownDay = day;
    if (!day) return;
    var detail = document.getElementById("day-detail");
    detail.scrollIntoView({ block: "nearest" });
    detail.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:after:swap", revealDetail);

  function start() {
    shownDay = detailDay();
    adoptZone();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
