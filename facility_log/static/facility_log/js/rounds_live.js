// The live rounds page keeps itself current without reloading (a <meta http-equiv="refresh">
// reloads under the reader's feet and loses their place and focus: WCAG 2.2.1/3.2.5).
// Every minute, while the page is visible, it fetches itself and swaps the tables in place;
// the "As of" line inside the region says when. The "Refresh now" link works without script.
(function () {
  "use strict";
  var region = document.getElementById("live-rounds");
  if (!region || !window.fetch || !window.DOMParser) return;
  var seconds = Number(region.dataset.refreshSeconds) || 60;
  var status = document.getElementById("live-rounds-status");

  function tables(element) {
    return Array.prototype.map.call(element.querySelectorAll("table"), function (t) {
      return t.textContent;
    }).join("|");
  }

  function refresh() {
    if (document.hidden) return;
    fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-rounds");
        // Keep focus where it was if the reader is on something inside the region.
        var focused = region.contains(document.activeElement) ? document.activeElement.id : null;
        if (!fresh) return;
        // Say so (politely, once) only when a round or exception changed, not every minute.
        var changed = tables(fresh) !== tables(region);
        region.innerHTML = fresh.innerHTML;
        if (changed && status) status.textContent = status.dataset.changed;
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
})();
