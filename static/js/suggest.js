/* Kroi: search-as-you-type for the /cars search box, the WAI-ARIA combobox pattern (list autocomplete).
   Without this file the box is a plain search field and the form works as before. */
(function () {
  "use strict";

  function init() {
    var input = document.querySelector("input[data-suggest]");
    var list = document.getElementById("q-suggest");
    var status = document.getElementById("q-suggest-status");
    if (!input || !list) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    var timer = null;
    var seq = 0;
    var active = -1;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(i) {
      var opts = options();
      Array.prototype.forEach.call(opts, function (o, j) { o.setAttribute("aria-selected", j === i ? "true" : "false"); });
      active = i;
      if (i >= 0 && opts[i]) {
        input.setAttribute("aria-activedescendant", opts[i].id);
        opts[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function announce(n) {
      if (!status) return;
      status.textContent = n ? input.getAttribute("data-count-text").replace("{n}", n) : input.getAttribute("data-none-text");
    }

    function fetchOptions() {
      var q = input.value.trim();
      if (q.length < 2) { close(); if (status) status.textContent = ""; return; }
      var mine = ++seq;
      var url = input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q);
      var lang = new URLSearchParams(location.search).get("lang");
      if (lang) url += "&lang=" + encodeURIComponent(lang);
      fetch(url, { headers: { "Accept": "text/html" } }).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (body) {
          if (mine !== seq || document.activeElement !== input) return;
          list.innerHTML = body;
          var n = options().length;
          announce(n);
          if (n) {
            list.hidden = false;
            input.setAttribute("aria-expanded", "true");
            mark(-1);
          } else {
            close();
          }
        }).catch(function () { close(); });
    }

    function choose(opt) {
      input.value = opt.getAttribute("data-value");
      close();
      seq++;
      // The search understands the chosen name as its filter (make, model, body type, fuel).
      if (input.form && input.form.requestSubmit) input.form.requestSubmit(); else if (input.form) input.form.submit();
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchOptions, 150);
    });
    input.addEventListener("keydown", function (e) {
      var opts = options();
      var open = !list.hidden && opts.length;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { fetchOptions(); return; }
        mark(active + 1 >= opts.length ? 0 : active + 1);
      } else if (e.key === "ArrowUp") {
        if (!open) return;
        e.preventDefault();
        mark(active <= 0 ? opts.length - 1 : active - 1);
      } else if (e.key === "Enter") {
        if (open && active >= 0) { e.preventDefault(); choose(opts[active]); } else { close(); }
      } else if (e.key === "Escape") {
        if (open) { e.preventDefault(); e.stopPropagation(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep focus in the box
    list.addEventListener("click", function (e) {
      var opt = e.target.closest && e.target.closest("[role=option]");
      if (opt) choose(opt);
    });

    // The words the search understood became filters (chips, checked boxes): the box keeps only the leftover
    // text the server answered with, unless the shopper typed on meanwhile.
    var sent = null;
    document.addEventListener("htmx:beforeRequest", function (e) {
      if (e.detail.elt && e.detail.elt.id === "filters") sent = input.value;
    });
    document.addEventListener("htmx:afterRequest", function (e) {
      if (!e.detail.elt || e.detail.elt.id !== "filters" || !e.detail.xhr) return;
      var pushed = e.detail.xhr.getResponseHeader("HX-Push-Url");
      if (pushed === null || input.value !== sent) return;
      var q = new URLSearchParams(pushed.indexOf("?") >= 0 ? pushed.slice(pushed.indexOf("?")) : "").get("q") || "";
      if (q !== input.value.trim()) input.value = q;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
