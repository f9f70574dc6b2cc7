/* Kroi car page: share, the action bar's message button and the financing calculator's field states.
   Everything here has a working form or link underneath. */
(function () {
  "use strict";

  function start() {
    // Share: the device's share sheet where there is one, else the link copied to the clipboard.
    document.querySelectorAll("[data-share]").forEach(function (box) {
      var button = box.querySelector("[data-share-button]");
      var status = box.querySelector("[data-share-status]");
      if (!button || !(navigator.share || navigator.clipboard)) return;
      box.hidden = false;
      button.addEventListener("click", function () {
        var canonical = document.querySelector('link[rel="canonical"]');
        var url = button.getAttribute("data-url") || (canonical && canonical.href) || location.href;
        var title = button.getAttribute("data-title") || document.title;
        status.textContent = "";
        if (navigator.share) {
          navigator.share({ title: title, url: url }).catch(function () { /* the shopper cancelled */ });
          return;
        }
        navigator.clipboard.writeText(url).then(function () {
          status.textContent = status.getAttribute("data-copied");
        }, function () {
          status.textContent = status.getAttribute("data-failed").replace("{url}", url);
        });
      });
    });

    // The action bar's "message": to the inquiry form, its first field focused (the link alone only scrolls).
    document.querySelectorAll("[data-focus-form]").forEach(function (link) {
      link.addEventListener("click", function (e) {
        var form = document.getElementById(link.getAttribute("data-focus-form"));
        var field = form && form.querySelector("input:not([type=hidden]):not([tabindex='-1']), textarea, select");
        if (!field) return;
        e.preventDefault();
        field.focus({ preventScroll: true });
        form.scrollIntoView({ block: "start" });
      });
    });
  }

  // The calculator's result came back: mark the fields its messages are about, and say the new payment and
  // rate (or the message) in a few words instead of reading the whole example aloud.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "financing-result") return;
    var said = [];
    [["fin-down", "fin-down-error"], ["fin-months", "fin-months-error"]].forEach(function (pair) {
      var input = document.getElementById(pair[0]), error = document.getElementById(pair[1]);
      if (!input || !error) return;
      var text = error.textContent.trim();
      if (text) { input.setAttribute("aria-invalid", "true"); said.push(text); } else input.removeAttribute("aria-invalid");
    });
    e.detail.target.querySelectorAll(".finance-figures > div").forEach(function (row) {
      said.push(row.querySelector("dt").textContent + " " + row.querySelector("dd").textContent);
    });
    var announce = document.getElementById("financing-announce");
    if (announce) announce.textContent = said.join(". ");
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
