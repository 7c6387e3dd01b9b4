// Post orders on the tablet: read from the page's cached data, so they show with no network.
//
// Before a shift starts, the post orders of the chosen site that changed since the guard
// last acknowledged them are shown with an "I have read these" box; the start is held back
// until it is ticked. app.js asks `FacilityLogPostOrders.acknowledged(site)` for the version
// ids to send with the start (they ride in the outbox with it, POST /api/v1/shifts/
// `post_order_versions`). Versions acknowledged on this tablet are remembered until the page
// data says the server has them, so a second start offline does not ask again.
(function () {
  "use strict";

  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  var STORE = "facility_log.post_orders.acked." + bundle.user;

  function $(id) { return document.getElementById(id); }

  function remembered() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }

  function remember(ids) {
    var known = remembered();
    ids.forEach(function (id) { known[id] = true; });
    try { window.localStorage.setItem(STORE, JSON.stringify(known)); } catch (e) { /* private mode: asked again */ }
  }

  function ordersOf(code) {
    var site = bundle.sites.filter(function (s) { return s.code === code; })[0];
    return site ? site.post_orders || [] : [];
  }

  function pendingOf(code) {
    var known = remembered();
    return ordersOf(code).filter(function (o) { return !o.acknowledged && !known[o.version_id]; });
  }

  // The body is HTML the server made from escaped text (facility_log/markup.py).
  function article(order) {
    var box = document.createElement("article");
    box.className = "card post-order";
    var heading = document.createElement("h4");
    var version = $("post-orders-tablet").dataset.version;
    heading.textContent = order.title + " (" + version + " " + order.number + ")" + (order.zone ? " · " + order.zone : "");
    var body = document.createElement("div");
    body.className = "post-order-body";
    body.innerHTML = order.body_html;
    box.appendChild(heading);
    box.appendChild(body);
    return box;
  }

  function fill(list, orders) {
    list.textContent = "";
    orders.forEach(function (order) { list.appendChild(article(order)); });
  }

  function draw() {
    var select = $("shift-site");
    var code = select ? select.value : "";
    var pending = pendingOf(code);
    $("post-orders-pending").hidden = pending.length === 0;
    fill($("post-orders-pending-list"), pending);
    var all = ordersOf(code);
    $("post-orders-all").hidden = all.length === 0;
    fill($("post-orders-all-list"), all);
    $("post-orders-refused").hidden = true;
  }

  // Runs before app.js's own submit handler (capture phase on the document).
  function holdUnread(event) {
    if (!event.target || event.target.id !== "start-shift-form") return;
    if (pendingOf($("shift-site").value).length === 0 || $("post-orders-read").checked) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var refused = $("post-orders-refused");
    refused.textContent = $("post-orders-tablet").dataset.refused;
    refused.hidden = false;
    $("post-orders-read").focus();
  }

  // The version ids the guard acknowledges with a shift start at `code` (none unless ticked).
  function acknowledged(code) {
    var ids = $("post-orders-read").checked ? pendingOf(code).map(function (o) { return o.version_id; }) : [];
    remember(ids);
    $("post-orders-read").checked = false;
    window.setTimeout(draw, 0);
    return ids;
  }

  function start() {
    if (!$("post-orders-tablet")) return;
    document.addEventListener("submit", holdUnread, true);
    var select = $("shift-site");
    if (select) {
      select.addEventListener("change", draw);
      new MutationObserver(draw).observe(select, { childList: true });
    }
    draw();
  }

  window.FacilityLogPostOrders = { acknowledged: acknowledged, pending: pendingOf };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
