/* Kroi: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  // Focus after HTMX swaps: pager -> the results; "show more" -> the first new car.
  var countBefore = 0;
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (e.detail.elt && e.detail.elt.hasAttribute("data-more")) {
      countBefore = document.querySelectorAll("#result-list article").length;
    }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!elt) return;
    if (elt.hasAttribute("data-more")) {
      var cards = document.querySelectorAll("#result-list article");
      var link = cards[countBefore] && cards[countBefore].querySelector("a");
      if (link) link.focus();
    } else if (elt.closest && elt.closest(".pager")) {
      var results = document.getElementById("results");
      if (results) { results.focus({ preventScroll: true }); results.scrollIntoView({ block: "start" }); }
    }
  });

  // Gallery: buttons, arrow keys and thumbnails move a scroll-snap track (touch swipes natively).
  function initGallery(root) {
    var track = root.querySelector(".gallery-track");
    var controls = root.querySelector("[data-gallery-controls]");
    if (!track || !controls) return;
    var slides = track.querySelectorAll(".slide");
    var counter = root.querySelector("[data-gallery-counter]");
    var thumbs = root.querySelectorAll("[data-gallery-thumb]");
    if (slides.length > 1) controls.hidden = false;
    function current() { return Math.round(track.scrollLeft / Math.max(track.clientWidth, 1)); }
    function go(i) {
      i = Math.max(0, Math.min(slides.length - 1, i));
      track.scrollTo({ left: i * track.clientWidth });
      mark(i);
    }
    function mark(i) {
      if (counter) counter.textContent = counter.getAttribute("data-template").replace("{n}", String(i + 1));
      thumbs.forEach(function (t, j) { t.setAttribute("aria-current", j === i ? "true" : "false"); });
    }
    root.querySelector("[data-gallery-prev]").addEventListener("click", function () { go(current() - 1); });
    root.querySelector("[data-gallery-next]").addEventListener("click", function () { go(current() + 1); });
    track.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight") { e.preventDefault(); go(current() + 1); }
      if (e.key === "ArrowLeft") { e.preventDefault(); go(current() - 1); }
      if (e.key === "Home") { e.preventDefault(); go(0); }
      if (e.key === "End") { e.preventDefault(); go(slides.length - 1); }
    });
    var timer;
    track.addEventListener("scroll", function () { clearTimeout(timer); timer = setTimeout(function () { mark(current()); }, 80); });
    thumbs.forEach(function (t) {
      t.addEventListener("click", function (e) { e.preventDefault(); go(Number(t.getAttribute("data-gallery-thumb"))); });
    });
    mark(0);
  }
  function init() { document.querySelectorAll(".gallery").forEach(initGallery); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
