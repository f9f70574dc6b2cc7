/* Kroi favourites: the visitor's list lives in localStorage only (no cookie, nothing sent to us but the ids
   in a /favourites or /compare address). Cached pages render every heart off and hidden; this sets them. */
(function () {
  "use strict";
  var KEY = "kroi:favourites";
  var MAX = 50;

  function load() {
    try {
      var list = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (f) { return f && /^[0-9]{1,19}$/.test(String(f.id)); }) : [];
    } catch (e) { return []; }
  }
  function store(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX))); } catch (e) { /* private mode, full */ }
    refresh(document);
  }
  function has(list, id) { return list.some(function (f) { return String(f.id) === String(id); }); }
  function without(list, id) { return list.filter(function (f) { return String(f.id) !== String(id); }); }
  function idsParam(list) {
    return list.map(function (f) { return f.price != null && /^[0-9]{1,12}$/.test(String(f.price)) ? f.id + ":" + f.price : String(f.id); }).join(",");
  }
  function listUrl(list) {
    var query = list.length ? ["ids=" + idsParam(list)] : [];
    if (document.documentElement.lang === "en") query.push("lang=en");  // an English address stays English
    return "/favourites" + (query.length ? "?" + query.join("&") : "");
  }

  function setHeart(btn, on) {
    btn.hidden = false;
    btn.setAttribute("aria-pressed", on ? "true" : "false");
    var text = btn.querySelector("[data-fav-text]");
    var label = on ? btn.dataset.on : btn.dataset.off;
    if (text) text.textContent = label; else btn.setAttribute("aria-label", label);
  }

  // Every heart, the header link and (on /favourites) the shared-list offer, from the stored list.
  function refresh(root) {
    var list = load();
    (root.querySelectorAll ? root : document).querySelectorAll("[data-fav]").forEach(function (btn) {
      setHeart(btn, has(list, btn.dataset.fav));
    });
    document.querySelectorAll("[data-fav-link]").forEach(function (a) {
      // "Suosikit (3)"; on a phone only the heart and the number show (the brackets are visually hidden).
      var n = a.querySelector("[data-fav-n]");
      if (n) n.innerHTML = list.length ? ' <span class="fav-paren">(</span>' + list.length + '<span class="fav-paren">)</span>' : "";
      var label = a.querySelector(".fav-nav-label");
      if (label) a.setAttribute("aria-label", label.textContent + (list.length ? " (" + list.length + ")" : ""));
      a.setAttribute("href", listUrl(list));
    });
    refreshCompare(root);
    document.querySelectorAll("[data-fav-nojs]").forEach(function (p) { p.hidden = true; });
    var page = document.querySelector("[data-fav-page]");
    if (page) {
      var ids = pageIds(page);
      var adopt = page.querySelector("[data-fav-adopt]");
      if (adopt) adopt.hidden = !ids.length || ids.every(function (id) { return has(list, id); });
      page.querySelectorAll("[data-fav-copy]").forEach(function (b) { b.hidden = false; });
    }
  }

  function pageIds(page) {
    return (page.dataset.ids || "").split(",").filter(Boolean).map(function (item) { return item.split(":")[0]; });
  }
  function pageItems(page) {
    return (page.dataset.ids || "").split(",").filter(Boolean).map(function (item) {
      var parts = item.split(":");
      var heart = page.querySelector('[data-fav="' + parts[0] + '"]');
      return { id: parts[0], price: parts[1] ? Number(parts[1]) : (heart ? Number(heart.dataset.price) : null),
               at: new Date().toISOString() };
    });
  }

  // The list is mine when every car shown is in my storage: removing one there removes it from storage too.
  function isMine(page) {
    var list = load();
    return pageIds(page).every(function (id) { return has(list, id); });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-fav]");
    if (btn) {
      var list = load();
      var id = btn.dataset.fav;
      if (has(list, id)) list = without(list, id);
      else list.unshift({ id: Number(id), price: Number(btn.dataset.price), at: new Date().toISOString() });
      store(list);
      return;
    }
    var remove = e.target.closest && e.target.closest("[data-fav-remove]");
    var page = document.querySelector("[data-fav-page]");
    if (remove && page && isMine(page)) { store(without(load(), remove.dataset.favRemove)); return; }
    var adopt = e.target.closest && e.target.closest("[data-fav-adopt-button]");
    if (adopt && page) {
      var mine = load();
      pageItems(page).reverse().forEach(function (item) { if (!has(mine, item.id)) mine.unshift(item); });
      store(mine);
      say(page, adopt.dataset.done);
      return;
    }
    var copy = e.target.closest && e.target.closest("[data-fav-copy]");
    if (copy && page) {
      var input = page.querySelector("#fav-share-url");
      var status = page.querySelector("[data-fav-status]");
      var done = function () { say(page, status.dataset.copied); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else { input.select(); }
    }
  });

  function say(page, text) {
    var status = page.querySelector("[data-fav-status]");
    if (status) status.textContent = text;
  }

  // /favourites opened without ids (a bookmark, the header link before this ran): show the stored list,
  // and put it in the address so a reload or a copied link shows the same.
  function fillFavouritesPage() {
    var page = document.querySelector("[data-fav-page]");
    if (!page || new URLSearchParams(location.search).has("ids")) return;
    var list = load();
    if (!list.length) return;
    var url = listUrl(list);
    history.replaceState(history.state, "", url);
    if (window.htmx) window.htmx.ajax("GET", url, { target: "#favourites", swap: "outerHTML" });
    else location.replace(url);
  }


  /* --- compare: up to CMP_MAX car ids in localStorage, toggles on cards and car pages, a tray linking to /compare --- */
  var CMP_KEY = "kroi:compare";
  var CMP_MAX = 4;

  function loadCompare() {
    try {
      var list = JSON.parse(localStorage.getItem(CMP_KEY) || "[]");
      return Array.isArray(list) ? list.map(String).filter(function (id) { return /^[0-9]{1,19}$/.test(id); })
        .filter(function (id, i, all) { return all.indexOf(id) === i; }).slice(0, CMP_MAX) : [];
    } catch (e) { return []; }
  }
  function storeCompare(list) {
    try { localStorage.setItem(CMP_KEY, JSON.stringify(list.slice(0, CMP_MAX))); } catch (e) { /* private mode, full */ }
    refreshCompare(document);
  }
  function fill(template, n) { return template.replace("{n}", n).replace("{max}", CMP_MAX); }

  function refreshCompare(root) {
    var chosen = loadCompare();
    (root.querySelectorAll ? root : document).querySelectorAll("[data-cmp]").forEach(function (btn) {
      var on = chosen.indexOf(btn.dataset.cmp) >= 0;
      btn.hidden = false;
      btn.setAttribute("aria-pressed", on ? "true" : "false");
      var text = btn.querySelector("[data-cmp-text]");
      if (text) text.textContent = on ? btn.dataset.on : btn.dataset.off;
    });
    var tray = document.querySelector("[data-cmp-tray]");
    if (!tray) return;
    // The favourites page has its own compare form and /compare is the comparison itself: no tray there.
    var own = document.querySelector("[data-fav-page], [data-cmp-page]");
    tray.hidden = !chosen.length || !!own;
    document.body.classList.toggle("has-cmp-tray", !tray.hidden);
    tray.querySelector("[data-cmp-go]").textContent = fill(tray.dataset.go, chosen.length);
    tray.querySelector(".cmp-go").setAttribute("href", "/compare" + (chosen.length ? "?ids=" + chosen.join(",") : ""));
    tray.querySelector("[data-cmp-hint]").hidden = chosen.length !== 1;
  }
  function announce(text) {
    var status = document.querySelector("[data-cmp-status]");
    if (!status) return;
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  document.addEventListener("click", function (e) {
    var tray = document.querySelector("[data-cmp-tray]");
    var btn = e.target.closest && e.target.closest("[data-cmp]");
    if (btn && tray) {
      var chosen = loadCompare();
      var id = btn.dataset.cmp;
      if (chosen.indexOf(id) >= 0) {
        chosen = chosen.filter(function (c) { return c !== id; });
        storeCompare(chosen);
        announce(fill(tray.dataset.removed, chosen.length));
      } else if (chosen.length >= CMP_MAX) {
        announce(fill(tray.dataset.full, chosen.length));
        refreshCompare(document);
      } else {
        chosen.push(id);
        storeCompare(chosen);
        announce(fill(tray.dataset.added, chosen.length));
      }
      return;
    }
    var clear = e.target.closest && e.target.closest("[data-cmp-clear]");
    if (clear && tray) {
      storeCompare([]);
      announce(tray.dataset.cleared);
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });  // the tray (and the focused button) is gone
    }
  });
  window.addEventListener("storage", function (e) { if (e.key === CMP_KEY) refreshCompare(document); });
  window.addEventListener("storage", function (e) { if (e.key === KEY) refresh(document); });
  document.addEventListener("htmx:load", function (e) { refresh(e.target); });
  document.addEventListener("htmx:afterSettle", function (e) {
    refresh(document);
    // After "Poista" the removed item's link is gone: keep the keyboard on the list.
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var list = document.getElementById("favourites");
    if (elt && elt.hasAttribute && elt.hasAttribute("data-fav-remove") && list) list.focus({ preventScroll: true });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { refresh(document); fillFavouritesPage(); });
  } else { refresh(document); fillFavouritesPage(); }
})();
