/* Kroi car page: the fullscreen photo viewer. Without this file every photo is a link to its full-size file. */
(function () {
  "use strict";

  var MAX_SCALE = 4, TAP_MS = 300, SWIPE_PX = 50;

  function init(dialog) {
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-lightbox-open]"));
    if (!links.length || typeof dialog.showModal !== "function") return;
    var stage = dialog.querySelector("[data-lightbox-stage]");
    var img = dialog.querySelector("[data-lightbox-img]");
    var counter = dialog.querySelector("[data-lightbox-counter]");
    var index = 0, opener = null;
    var scale = 1, tx = 0, ty = 0;

    function apply() {
      img.style.transform = "translate(" + tx.toFixed(1) + "px, " + ty.toFixed(1) + "px) scale(" + scale.toFixed(3) + ")";
      stage.classList.toggle("zoomed", scale > 1);
    }
    function clamp() {
      // A zoomed photo pans no further than its own edges.
      var mx = Math.max(0, (img.offsetWidth * scale - stage.clientWidth) / 2);
      var my = Math.max(0, (img.offsetHeight * scale - stage.clientHeight) / 2);
      tx = Math.max(-mx, Math.min(mx, tx));
      ty = Math.max(-my, Math.min(my, ty));
    }
    function zoomAt(next, x, y) {
      // Keep the point under the finger (or the pointer) where it is while the scale changes.
      next = Math.max(1, Math.min(MAX_SCALE, next));
      var r = stage.getBoundingClientRect();
      var dx = x - (r.left + r.width / 2), dy = y - (r.top + r.height / 2);
      tx = dx - (dx - tx) * next / scale;
      ty = dy - (dy - ty) * next / scale;
      scale = next;
      if (scale === 1) { tx = 0; ty = 0; }
      clamp(); apply();
    }
    function reset() { scale = 1; tx = 0; ty = 0; apply(); }

    function show(i) {
      index = (i + links.length) % links.length;
      var link = links[index], thumb = link.querySelector("img");
      reset();
      img.src = link.href;
      img.alt = thumb ? thumb.alt : "";
      if (thumb) { img.width = thumb.width; img.height = thumb.height; }
      counter.textContent = (index + 1) + " / " + links.length;
      [index + 1, index - 1].forEach(function (j) {  // the neighbours load while this one is looked at
        var next = links[(j + links.length) % links.length];
        if (next) new Image().src = next.href;
      });
    }
    function open(i, from) {
      opener = from;
      img.loading = "eager";
      show(i);
      dialog.showModal();
      var close = dialog.querySelector("[data-lightbox-close]");
      if (close) close.focus();
    }

    links.forEach(function (link) {
      link.addEventListener("click", function (e) {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button) return;  // a new tab still gets the file
        e.preventDefault();
        open(Number(link.getAttribute("data-lightbox-open")), link);
      });
    });
    dialog.querySelector("[data-lightbox-close]").addEventListener("click", function () { dialog.close(); });
    var prev = dialog.querySelector("[data-lightbox-prev]"), next = dialog.querySelector("[data-lightbox-next]");
    if (prev) prev.addEventListener("click", function () { show(index - 1); });
    if (next) next.addEventListener("click", function () { show(index + 1); });
    dialog.addEventListener("close", function () {
      reset();
      if (opener && opener.isConnected) opener.focus();
    });
    // A click on the dark backdrop (outside the photo and the buttons) closes, as people expect.
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });

    dialog.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight") { e.preventDefault(); show(index + 1); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); show(index - 1); }
      else if (e.key === "Home") { e.preventDefault(); show(0); }
      else if (e.key === "End") { e.preventDefault(); show(links.length - 1); }
      else if (e.key === "+" || e.key === "=") { e.preventDefault(); var r = stage.getBoundingClientRect(); zoomAt(scale * 1.5, r.left + r.width / 2, r.top + r.height / 2); }
      else if (e.key === "-") { e.preventDefault(); var q = stage.getBoundingClientRect(); zoomAt(scale / 1.5, q.left + q.width / 2, q.top + q.height / 2); }
      else if (e.key === "Tab") {
        // Keep Tab inside the viewer: from the last button to the first and back.
        var items = Array.prototype.filter.call(dialog.querySelectorAll("button"), function (b) { return !b.disabled && b.offsetParent !== null; });
        if (!items.length) return;
        var first = items[0], last = items[items.length - 1];
        if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) { e.preventDefault(); last.focus(); }
        else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) { e.preventDefault(); first.focus(); }
      }
    });

    // Touch, pen and mouse: swipe to the next photo, pinch or double-tap to zoom, drag to pan a zoomed photo.
    var pointers = new Map(), drag = null, pinch = null, lastTap = null;
    function distance() {
      var p = Array.from(pointers.values());
      return Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) || 1;
    }
    function middle() {
      var p = Array.from(pointers.values());
      return { x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2 };
    }
    stage.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      e.preventDefault();
      try { stage.setPointerCapture(e.pointerId); } catch (err) { /* the pointer is already gone */ }
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pointers.size === 1) {
        drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty, moved: false };
      } else if (pointers.size === 2) {
        drag = null;
        pinch = { dist: distance(), scale: scale };
      }
    });
    stage.addEventListener("pointermove", function (e) {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pinch && pointers.size >= 2) {
        var m = middle();
        zoomAt(pinch.scale * distance() / pinch.dist, m.x, m.y);
      } else if (drag) {
        var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        if (Math.abs(dx) > 8 || Math.abs(dy) > 8) drag.moved = true;
        if (scale > 1) { tx = drag.tx + dx; ty = drag.ty + dy; clamp(); apply(); }
        else { img.style.transform = "translateX(" + dx.toFixed(1) + "px)"; }  // the photo follows the swipe
      }
    });
    function end(e) {
      if (!pointers.has(e.pointerId)) return;
      pointers.delete(e.pointerId);
      if (pinch) {
        if (pointers.size < 2) pinch = null;
        drag = null; lastTap = null;
        return;
      }
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y, was = drag;
      drag = null;
      if (e.type === "pointercancel") { if (scale === 1) apply(); return; }
      if (scale === 1 && Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
        show(index + (dx < 0 ? 1 : -1)); lastTap = null; return;
      }
      if (scale === 1) apply();
      if (was.moved) { lastTap = null; return; }
      var now = Date.now();
      if (lastTap && now - lastTap.t < TAP_MS && Math.hypot(e.clientX - lastTap.x, e.clientY - lastTap.y) < 30) {
        if (scale > 1) reset(); else zoomAt(2.5, e.clientX, e.clientY);
        lastTap = null;
      } else {
        lastTap = { t: now, x: e.clientX, y: e.clientY };
      }
    }
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
    // A trackpad's pinch arrives as a wheel event with ctrlKey: zoom the photo, not the page.
    stage.addEventListener("wheel", function (e) {
      if (!e.ctrlKey) return;
      e.preventDefault();
      zoomAt(scale * Math.exp(-e.deltaY / 100), e.clientX, e.clientY);
    }, { passive: false });
    window.addEventListener("resize", function () { if (dialog.open) { clamp(); apply(); } });
  }

  function start() { document.querySelectorAll("[data-lightbox]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
