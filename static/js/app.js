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

  // A new make empties the model before htmx sends the form (capture runs first): a Corolla chosen under
  // Toyota is not a BMW model, and the shopper did nothing wrong to deserve a note saying so.
  document.addEventListener("change", function (e) {
    if (e.target.id !== "brand" || !e.target.form || e.target.form.id !== "filters") return;
    var model = e.target.form.elements.model;
    if (model) model.value = "";
  }, true);

  // Set the filter fields from a query string: the URL holds the search.
  function syncFilters(search) {
    var form = document.getElementById("filters");
    if (!form) return;
    var params = new URLSearchParams(search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var values = params.getAll(el.name);
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT") {
        var known = Array.prototype.some.call(el.options, function (o) { return o.value === values[0]; });
        el.value = known ? values[0] : (el.options.length ? el.options[0].value : "");
      } else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
        el.value = values.length ? values[0] : "";
      }
    });
  }
  // Back/forward: htmx restores a snapshot of the HTML, which keeps neither typed values nor choices made
  // after the page was rendered.
  document.addEventListener("htmx:historyRestore", function () { syncFilters(location.search); });

  // A link marked data-sync-filters changes the search from outside the form (a chip, "clear all", a suggestion):
  // the facets come back out-of-band, but the search box, sort and ranges must follow too, or the next change
  // in the form would send the removed filter again. Then focus the result count, the chip being gone.
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    // (The link itself may be gone by now, replaced out-of-band: go by its attribute, not its place.)
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-sync-filters")) return;
    var url = elt.getAttribute("hx-get") || "";
    syncFilters(url.indexOf("?") >= 0 ? url.slice(url.indexOf("?")) : "");
    var count = document.getElementById("result-count");
    if (count) count.focus({ preventScroll: true });
  });

  // The phone's filter sheet: the "Suodata" link opens the panel as a modal <dialog> (focus stays inside, Esc
  // closes); without JavaScript the link shows the same panel by :target. Closing it shows the results from the top.
  var sheetOpener = null;
  function sheet() { return document.getElementById("filter-sheet"); }
  document.addEventListener("click", function (e) {
    var open = e.target.closest && e.target.closest("[data-sheet-open]");
    var dialog = sheet();
    if (open && dialog && dialog.showModal) {
      e.preventDefault();
      sheetOpener = open;
      if (!dialog.open) dialog.showModal();  // focus goes to its first control, the close button
      return;
    }
    if (e.target.closest && e.target.closest("[data-sheet-close]") && dialog && dialog.open) dialog.close();
  });
  // A modal <dialog> keeps focus out of the page, but Tab from its last control would leave for the browser's
  // own controls: wrap around inside the sheet.
  document.addEventListener("keydown", function (e) {
    var dialog = sheet();
    if (e.key !== "Tab" || !dialog || !dialog.open) return;
    var items = Array.prototype.filter.call(dialog.querySelectorAll(
      "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])"), function (el) {
      return !el.disabled && el.getClientRects().length > 0;
    });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      e.preventDefault(); last.focus();
    } else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      e.preventDefault(); first.focus();
    }
  });
  document.addEventListener("submit", function (e) {
    var dialog = sheet();
    if (e.target.id === "filters" && dialog && dialog.open) dialog.close();
  }, true);
  document.addEventListener("close", function (e) {
    if (e.target !== sheet()) return;
    var area = document.querySelector(".results-area");
    if (area) area.scrollIntoView({ block: "start" });
    var back = sheetOpener || document.querySelector("[data-sheet-open]");
    if (back) back.focus({ preventScroll: true });
    sheetOpener = null;
  }, true);
  // A wide window has the side panel, never the sheet.
  window.addEventListener("resize", function () {
    var dialog = sheet();
    if (dialog && dialog.open && window.matchMedia("(min-width: 861px)").matches) dialog.close();
  });
  // "Näytä autot" on a desktop (the side panel): show where the results are.
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var trigger = e.detail.requestConfig && e.detail.requestConfig.triggeringEvent;
    if (!elt || elt.id !== "filters" || !trigger || trigger.type !== "submit") return;
    var count = document.getElementById("result-count");
    if (count && !sheet().open) { count.focus({ preventScroll: true }); count.scrollIntoView({ block: "nearest" }); }
  });

  // Forms: after a swap, focus the confirmation, or the first field in error (autofocus covers full pages).
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail.target;
    // After an outerHTML swap detail.target is the replaced (detached) element; the event's own is the new one.
    if (target && !target.isConnected) target = e.target;
    if (!target || !target.querySelector) return;
    var confirmation = target.matches("[data-confirmation]") ? target : target.querySelector("[data-confirmation]");
    if (confirmation) { confirmation.focus(); return; }
    if (target.matches("form.lead-form")) {
      var invalid = target.querySelector("[aria-invalid=true]") || target.querySelector(".form-error:not(:empty)");
      if (invalid) invalid.focus();
    }
    if (target.matches(".newsletter-status")) target.focus();
  });
  // A field validated on blur: mark its input invalid or valid to match the message.
  document.addEventListener("htmx:afterSwap", function (e) {
    var el = e.detail.target;
    if (!el || !el.classList || !el.classList.contains("field-error")) return;
    var fresh = document.getElementById(el.id);
    var input = fresh && document.querySelector('[aria-describedby~="' + el.id + '"]');
    if (input) {
      if (fresh.textContent.trim()) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
  });
  // An answer htmx does not swap (403 after an expired CSRF cookie, 5xx): say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function () {
    var box = document.getElementById("request-error");
    if (!box) return;
    box.textContent = box.getAttribute("data-text");
    box.hidden = false;
    setTimeout(function () { box.hidden = true; }, 8000);
  });

  // Admin photo upload: drop files on the form, show upload progress.
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone && e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) {
      e.preventDefault(); zone.classList.add("dragover");
    }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("dragover");
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (!zone || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault(); zone.classList.remove("dragover");
    zone.querySelector("input[type=file]").files = e.dataTransfer.files;
    if (window.htmx) htmx.trigger(zone, "submit"); else zone.submit();
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = e.target.querySelector && e.target.querySelector("progress");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false; bar.value = Math.round(e.detail.loaded / e.detail.total * 100);
  });

  // Admin photo order: drag an item to a new place; the new order is posted (buttons do the same by keyboard).
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var item = e.target.closest && e.target.closest("[data-sortable] > li");
    if (!item) return;
    dragged = item; item.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (e) {
    if (!dragged) return;
    var over = e.target.closest && e.target.closest("[data-sortable] > li");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) return;
    e.preventDefault();
    var after = e.clientY > over.getBoundingClientRect().top + over.offsetHeight / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging"); dragged = null;
    var ids = Array.prototype.map.call(list.children, function (li) { return li.getAttribute("data-image-id"); });
    if (window.htmx) {
      htmx.ajax("POST", list.getAttribute("data-sortable"), {
        source: list, target: "#images", swap: "outerHTML", values: { order: ids }
      });
    }
  });
  // The order buttons re-render the photo list: keep keyboard focus on the moved photo (the same button if it
  // is still enabled, else the one moving it back) instead of losing it to <body>.
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var m = elt && elt.getAttribute && /\/images\/(\d+)\/(first|up|down)$/.exec(elt.getAttribute("hx-post") || "");
    var item = m && document.querySelector('#images [data-image-id="' + m[1] + '"]');
    if (!item) return;
    var button = [m[2], m[2] === "down" ? "up" : "down"].map(function (action) {
      return item.querySelector('form[hx-post$="/' + action + '"] button:not([disabled])');
    }).filter(Boolean)[0];
    if (button) button.focus();
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
