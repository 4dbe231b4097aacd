// sigil catalog: search over the embedded index, conversion tabs, copy buttons.
// Untrusted text is only ever set with textContent, never as markup.
(function () {
  "use strict";

  function root() {
    var s = document.querySelector('script[src$="assets/site.js"]');
    return s ? s.getAttribute("src").replace(/assets\/site\.js$/, "") : "";
  }

  function terms(q) {
    return q.toLowerCase().split(/[\s,]+/).filter(function (t) { return t.length > 0; });
  }

  function score(e, ts) {
    var total = 0;
    var title = e.t.toLowerCase(), id = e.i.toLowerCase(), tech = e.a.toLowerCase(),
      tags = e.g.toLowerCase(), desc = e.d.toLowerCase();
    for (var i = 0; i < ts.length; i++) {
      var t = ts[i], s = 0, at = title.indexOf(t);
      if (at >= 0) { s += 10; if (at === 0 || /[^a-z0-9]/.test(title.charAt(at - 1))) { s += 5; } }
      if (id.indexOf(t) >= 0) { s += 8; }
      if (tech.indexOf(t) >= 0) { s += 8; }
      if (tags.indexOf(t) >= 0) { s += 3; }
      if (desc.indexOf(t) >= 0) { s += 1; }
      if (s === 0) { return 0; }
      total += s;
    }
    return total;
  }

  function search() {
    var input = document.getElementById("search");
    var list = document.getElementById("results");
    var count = document.getElementById("search-count");
    var index = window.SIGIL_INDEX || [];
    var src = document.getElementById("filter-source").value;
    var lvl = document.getElementById("filter-level").value;
    var ts = terms(input.value);
    var hits = [];
    for (var i = 0; i < index.length; i++) {
      var e = index[i];
      if ((src && e.l !== src) || (lvl && e.v !== lvl)) { continue; }
      var s = ts.length ? score(e, ts) : 1;
      if (s > 0) { hits.push([s, e]); }
    }
    hits.sort(function (a, b) { return b[0] - a[0] || (a[1].t < b[1].t ? -1 : a[1].t > b[1].t ? 1 : 0); });
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var shown = hits.slice(0, 100);
    count.textContent = hits.length + " rule" + (hits.length === 1 ? "" : "s") +
      (hits.length > shown.length ? " (first " + shown.length + " shown)" : "");
    var base = root();
    shown.forEach(function (h) {
      var e = h[1];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = base + "rules/" + e.k + ".html";
      a.className = "result";
      a.textContent = e.t;
      li.appendChild(a);
      var meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = [e.l, e.v, e.a, e.i].filter(function (x) { return x; }).join(" · ");
      li.appendChild(meta);
      list.appendChild(li);
    });
  }

  function initSearch() {
    var input = document.getElementById("search");
    if (!input) { return; }
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { input.value = params.get("q"); }
    var form = document.getElementById("search-form");
    if (form) { form.addEventListener("submit", function (ev) { ev.preventDefault(); search(); }); }
    // Only `input` on the text box: its `change` fires on blur, and rebuilding the list
    // then would swallow the click that caused the blur.
    input.addEventListener("input", search);
    document.getElementById("filter-source").addEventListener("change", search);
    document.getElementById("filter-level").addEventListener("change", search);
    search();
  }

  function initTabs() {
    var tabs = document.querySelectorAll(".tab[data-tab]");
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () {
        tabs.forEach(function (t) {
          var on = t === tab;
          t.classList.toggle("active", on);
          t.setAttribute("aria-selected", on ? "true" : "false");
          var panel = document.getElementById(t.getAttribute("data-tab"));
          if (panel) { panel.hidden = !on; }
        });
      });
    });
  }

  function initCopy() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var el = document.getElementById(b.getAttribute("data-copy"));
        if (!el) { return; }
        var text = el.textContent;
        var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
        } else { fallback(text); done(); }
      });
    });
  }

  function fallback(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(ta);
  }

  initSearch();
  initTabs();
  initCopy();
})();
