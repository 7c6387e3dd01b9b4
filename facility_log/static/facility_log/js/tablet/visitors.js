// The visitor day sheet on the guard tablet (docs/visitors.md): today's sheet of the shift's
// site as the tablet knows it (the server's sheet when it was last reached, plus what was
// signed in and out here since), and signing visitors in and out through the outbox (types
// `visitor-in` and `visitor-out`), so the gate keeps working when the network is gone.
//
// The line (PRIVACY.md): one site, one day. The tablet keeps one sheet, the shift's site's of
// today in that site's zone; another day's or another site's is dropped from its storage
// the moment this screen is drawn. Nothing here looks a name up. Every word comes from the
// page (the include's template and views/tablet_strings.py).
(function () {
  "use strict";

  var outbox = window.FacilityLogOutbox;
  // text.js loads after this include's script: read it once the page is parsed.
  var text = null;
  function t(key, values) { return text.t(key, values); }
  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  var STATE_KEY = "visitors";
  var REFRESH_MS = 60000;
  var lastFetch = 0;

  function $(id) { return document.getElementById(id); }

  // The tab button lives in the include (its words translated there); it joins the shift's
  // tabs before "End shift" before app.js binds them.
  function addTabButton() {
    var nav = document.querySelector(".tablet-tabs");
    var template = $("visitors-tab-button");
    if (!nav || !template) return;
    var button = template.content.firstElementChild.cloneNode(true);
    nav.insertBefore(button, nav.querySelector('[data-tab="end"]'));
  }

  function siteOf(code) {
    return bundle.sites.filter(function (s) { return s.code === code; })[0] || null;
  }

  function today(site) {
    var p = text.zoneParts(new Date(), site.time_zone || "UTC");
    return p.year + "-" + p.month + "-" + p.day;
  }

  function emptySheet(code, day) {
    return { site: code, day: day, server: [], fetchedAt: null, ins: [], outs: {} };
  }

  // The stored sheet if it is the shift's site's of today; otherwise an empty one, stored at
  // once in its place, so earlier days' visitors leave the tablet.
  function loadSheet() {
    return outbox.getState("tablet").then(function (tablet) {
      var code = tablet && tablet.shift ? tablet.shift.site : null;
      var site = code ? siteOf(code) : null;
      if (!site) return outbox.setState(STATE_KEY, null).then(function () { return null; });
      var day = today(site);
      return outbox.getState(STATE_KEY).then(function (sheet) {
        if (sheet && sheet.site === code && sheet.day === day) return sheet;
        var fresh = emptySheet(code, day);
        return outbox.setState(STATE_KEY, fresh).then(function () { return fresh; });
      });
    });
  }

  // The server's sheet of the day, when there is a network (one site, one day: the API
  // takes nothing else). Offline, the stored one stays.
  function refresh(sheet) {
    if (!sheet || !navigator.onLine || Date.now() - lastFetch < REFRESH_MS) return Promise.resolve(sheet);
    lastFetch = Date.now();
    var url = "/api/v1/sites/" + encodeURIComponent(sheet.site) + "/visitors/" + sheet.day + "/";
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || data.site !== sheet.site || data.day !== sheet.day) return sheet;
        return loadSheet().then(function (current) {
          if (!current || current.site !== sheet.site || current.day !== sheet.day) return current;
          current.server = data.visitors.map(function (v) {
            return {
              id: v.id, name: v.name, company: v.company, host: v.host, badge_number: v.badge_number,
              signed_in_at: v.signed_in_at, signed_out_at: v.signed_out_at,
            };
          });
          current.fetchedAt = new Date().toISOString();
          return outbox.setState(STATE_KEY, current).then(function () { return current; });
        });
      }, function () { lastFetch = 0; return sheet; });
  }

  // The rows to show: the server's, then this tablet's sign-ins it does not hold yet (their
  // server id, once sent, is in the outbox's ids), each with this tablet's sign-out if any.
  function rows(sheet, pending) {
    var onServer = {};
    sheet.server.forEach(function (v) { onServer[v.id] = true; });
    return Promise.all(sheet.ins.map(function (v) { return outbox.idFor(v.uuid); })).then(function (ids) {
      var list = sheet.server.map(function (v) {
        var out = sheet.outs["id:" + v.id];
        return Object.assign({ key: "id:" + v.id, ref: { id: v.id } }, v, {
          signed_out_at: v.signed_out_at || (out && out.at) || null,
          pending: Boolean(out && pending[out.uuid]),
        });
      });
      sheet.ins.forEach(function (v, i) {
        if (ids[i] && onServer[ids[i]]) return;
        var out = sheet.outs["uuid:" + v.uuid];
        list.push({
          key: "uuid:" + v.uuid, ref: { uuid: v.uuid }, name: v.name, company: v.company, host: v.host,
          badge_number: v.badge_number, signed_in_at: v.at, signed_out_at: out ? out.at : null,
          pending: Boolean(pending[v.uuid] || (out && pending[out.uuid])),
        });
      });
      return list;
    });
  }

  function describe(v, zone) {
    var words = [v.name];
    if (v.company) words.push(t("visitor_company", { company: v.company }));
    words.push(t("visitor_host", { host: v.host }));
    if (v.badge_number) words.push(t("visitor_badge", { badge: v.badge_number }));
    words.push(t("visitor_in_at", { time: text.formatTime(v.signed_in_at, zone) }));
    if (v.signed_out_at) words.push(t("visitor_out_at", { time: text.formatTime(v.signed_out_at, zone) }));
    return words.join(" · ");
  }

  function drawRow(list, v, zone) {
    var li = document.createElement("li");
    li.className = "visitor-row";
    li.dataset.key = v.key;
    li.appendChild(document.createTextNode(describe(v, zone) + " "));
    var badge = document.createElement("span");
    badge.className = "badge " + (v.pending ? "pending" : "sent");
    badge.textContent = v.pending ? t("waiting_to_send") : t("sent");
    li.appendChild(badge);
    if (!v.signed_out_at) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary visitor-out";
      button.textContent = t("visitor_sign_out", { name: v.name });
      button.addEventListener("click", function () { signOut(v); });
      li.appendChild(document.createTextNode(" "));
      li.appendChild(button);
    }
    list.appendChild(li);
  }

  // Draws overlap (a save, the outbox's change, the tab shown): only the latest one is put
  // on screen, whole, so a row never shows twice.
  var drawing = 0;

  function draw() {
    if (!$("tab-visitors")) return Promise.resolve();
    var mine = ++drawing;
    return Promise.all([loadSheet(), outbox.entries()]).then(function (loaded) {
      var sheet = loaded[0];
      if (!sheet) return { sheet: null, visitors: [] };
      var pending = {};
      loaded[1].forEach(function (e) { pending[e.uuid] = true; });
      return rows(sheet, pending).then(function (visitors) { return { sheet: sheet, visitors: visitors }; });
    }).then(function (found) {
      if (mine !== drawing) return;
      var sheet = found.sheet;
      var list = $("visitor-list");
      var source = $("visitors-source");
      list.textContent = "";
      $("visitor-form").hidden = !sheet;
      if (!sheet) { source.textContent = t("visitors_no_shift"); return; }
      var zone = siteOf(sheet.site).time_zone;
      source.textContent = sheet.fetchedAt
        ? t("visitors_sheet_of", { site: sheet.site, day: sheet.day, time: text.formatTime(sheet.fetchedAt, zone) })
        : t("visitors_sheet_offline", { site: sheet.site, day: sheet.day });
      found.visitors.forEach(function (v) { drawRow(list, v, zone); });
      if (!found.visitors.length) {
        var li = document.createElement("li");
        li.textContent = t("visitors_empty");
        list.appendChild(li);
      }
    });
  }

  function say(words, failed) {
    var box = $("saved-message");
    box.classList.toggle("not-saved", Boolean(failed));
    box.textContent = words;
  }

  // The outbox entry first (what must reach the server), then the screen's sheet.
  function save(entry, change, message) {
    return outbox.add([entry], []).then(function () {
      return loadSheet().then(function (sheet) {
        if (!sheet) return null;
        change(sheet);
        return outbox.setState(STATE_KEY, sheet);
      });
    }).then(function () {
      say(message);
      outbox.sync();
      return draw();
    }, function (error) {
      say(t("not_saved", { error: error && error.message ? error.message : String(error) }), true);
    });
  }

  function field(id) { return $(id).value.trim(); }

  function signIn(event) {
    event.preventDefault();
    var error = $("visitor-error");
    var name = field("visitor-name");
    var host = field("visitor-host");
    error.hidden = Boolean(name && host);
    error.textContent = error.hidden ? "" : t("visitor_required");
    if (!name || !host) { $(name ? "visitor-host" : "visitor-name").focus(); return; }
    loadSheet().then(function (sheet) {
      if (!sheet) return null;
      var uuid = outbox.newUuid();
      var at = new Date().toISOString();
      var body = {
        client_uuid: uuid, site: sheet.site, name: name, host: host,
        company: field("visitor-company"), badge_number: field("visitor-badge"), signed_in_at: at,
      };
      var entry = {
        uuid: uuid, kind: "visitor-in", kindLabel: t("kind_visitor_in"),
        label: t("label_visitor_in", { name: name }),
        url: "/api/v1/sites/" + encodeURIComponent(sheet.site) + "/visitors/", body: body,
      };
      var row = { uuid: uuid, name: name, host: host, company: body.company, badge_number: body.badge_number, at: at };
      return save(entry, function (s) { s.ins.push(row); }, t("visitor_signed_in", { name: name }))
        .then(function () { $("visitor-form").reset(); });
    });
  }

  function signOut(v) {
    if (!window.confirm(t("visitor_sign_out_question", { name: v.name }))) return null;
    return loadSheet().then(function (sheet) {
      if (!sheet) return null;
      var uuid = outbox.newUuid();
      var at = new Date().toISOString();
      var entry = {
        uuid: uuid, kind: "visitor-out", kindLabel: t("kind_visitor_out"),
        label: t("label_visitor_out", { name: v.name }),
        url: "/api/v1/sites/" + encodeURIComponent(sheet.site) + "/visitors/{visitor}/sign-out/",
        body: { client_uuid: uuid, signed_out_at: at },
      };
      // A visitor the server has is named by id; one signed in here by its sign-in's uuid
      // (the server finds it, also earlier in the same batch).
      if (v.ref.id) entry.url = entry.url.replace("{visitor}", String(v.ref.id));
      if (v.ref.id) entry.body.visitor = v.ref.id;
      else entry.refs = { visitor: v.ref.uuid };
      return save(entry, function (s) { s.outs[v.key] = { uuid: uuid, at: at }; },
        t("visitor_signed_out", { name: v.name }));
    });
  }

  function start() {
    text = window.FacilityLogTabletText;
    if (!outbox || !text || !$("tab-visitors")) return;
    $("visitor-form").addEventListener("submit", signIn);
    outbox.onChange(function () { draw(); });
    // Drawn (and the server's sheet fetched) when the tab is shown and when the page's shift is ready.
    new MutationObserver(function () {
      if (!$("tab-visitors").hidden) loadSheet().then(refresh).then(draw);
    }).observe($("tab-visitors"), { attributeFilter: ["hidden"] });
    new MutationObserver(function () { draw(); }).observe($("tablet"), { attributeFilter: ["data-ready"] });
    window.addEventListener("online", function () { lastFetch = 0; loadSheet().then(refresh).then(draw); });
    draw();
  }

  addTabButton();
  window.FacilityLogTabletVisitors = { draw: draw };

  // Deferred, this runs before text.js (in the page's scripts block): start once all are in.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
