// The guard's tablet screens. Every action is written to the outbox (outbox.js) first and
// shown as "saved on this tablet"; the outbox sends it when there is a network. The screens
// are drawn from what is stored on the tablet, so a reload with no network shows the same.
//
// This file holds the shift, its log, the pass-down notes and the sync panel; the round
// screen is round.js, the incident screen incident.js, words and times text.js. Each screen
// module is a function given the shared `ctx` below and returning {bind, draw, leave}.
(function () {
  "use strict";

  var outbox = window.FacilityLogOutbox;
  var text = window.FacilityLogTabletText;
  var t = text.t;
  var root = document.getElementById("tablet");
  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  // The screens' state, kept in IndexedDB with the outbox entries it belongs to; `tab` is
  // this browser tab's own and not stored. `handovers`: the pass-down notes this tablet left
  // at each site, newer than the ones the page was loaded with.
  var state = { shift: null, run: null, endedShifts: [], finishedRuns: [], lastShift: null, handovers: {} };
  var tab = "log";

  function $(id) { return document.getElementById(id); }

  function site(code) {
    return bundle.sites.filter(function (s) { return s.code === code; })[0] || null;
  }

  function formatTime(iso, siteCode) {
    var s = site(siteCode);
    return text.formatTime(iso, s ? s.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone);
  }

  function option(select, value, label) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    select.appendChild(element);
    return element;
  }

  function item(list, words, pending, className) {
    var li = document.createElement("li");
    if (className) li.className = className;
    li.textContent = words + " ";
    var badge = document.createElement("span");
    badge.className = "badge " + (pending ? "pending" : "sent");
    badge.textContent = pending ? t("waiting_to_send") : t("sent");
    li.appendChild(badge);
    list.appendChild(li);
    return li;
  }

  function say(words) {
    var box = $("saved-message");
    box.classList.remove("not-saved");
    box.textContent = words;
  }

  // A save that failed is said loudly and the screen is left as it was.
  function notSaved(error) {
    var box = $("saved-message");
    box.classList.add("not-saved");
    box.textContent = t("not_saved", { error: error && error.message ? error.message : String(error) });
  }

  function saved() { return !$("saved-message").classList.contains("not-saved"); }

  function copy(value) {
    return JSON.parse(JSON.stringify(value));
  }

  // Save `entries` and `records` with the state after the action, in one transaction; the
  // screen takes the new state only once all of it is on disk.
  function commit(entries, records, next, message) {
    return outbox.add(entries, records, next).then(function () {
      state = next;
      say(message);
      return draw();
    }, notSaved);
  }

  var ctx = {
    $: $, t: t, bundle: bundle, root: root, outbox: outbox, site: site, option: option,
    item: item, say: say, notSaved: notSaved, saved: saved, copy: copy, commit: commit,
    formatTime: formatTime, state: function () { return state; },
  };
  var screens = [window.FacilityLogTabletRound(ctx), window.FacilityLogTabletIncident(ctx)];

  // ---- drawing --------------------------------------------------------------------------

  // The newest notes left at the site: those in the page, or those this tablet has left
  // since the page was loaded (ending a shift must not leave the older notes on screen).
  function handoverFor(siteCode) {
    var s = site(siteCode);
    var fromPage = s && s.handover;
    var mine = state.handovers && state.handovers[siteCode];
    if (mine && (!fromPage || mine.ended_at > fromPage.ended_at)) return mine;
    return fromPage || null;
  }

  function drawHandover(box, siteCode) {
    box.textContent = "";
    var handover = handoverFor(siteCode);
    var heading = document.createElement("h3");
    heading.textContent = t("handover_heading");
    box.appendChild(heading);
    var notes = document.createElement("p");
    notes.className = "narrative";
    box.appendChild(notes);
    if (!handover) {
      notes.textContent = t("handover_none");
      return;
    }
    notes.textContent = handover.notes || t("handover_empty");
    var who = document.createElement("p");
    who.className = "help";
    who.textContent = t("handover_left_by", { guard: handover.guard, time: formatTime(handover.ended_at, siteCode) });
    box.appendChild(who);
  }

  function pendingUuids(entries) {
    var pending = {};
    entries.forEach(function (entry) { pending[entry.recordUuid || entry.uuid] = true; });
    return pending;
  }

  function draw() {
    return Promise.all([outbox.records(), outbox.entries()]).then(function (loaded) {
      var records = loaded[0];
      var pending = pendingUuids(loaded[1]);
      var onShift = Boolean(state.shift);
      $("start-shift").hidden = onShift;
      $("shift").hidden = !onShift;
      if (!onShift) {
        drawHandover($("handover-before"), $("shift-site").value);
        drawLastReport(records, pending);
        return;
      }
      var shift = state.shift;
      var s = site(shift.site) || { name: shift.site, routes: [], zones: [] };
      $("shift-summary").textContent = t("on_shift", { site: s.name, code: shift.site, time: formatTime(shift.startedAt, shift.site) });
      drawHandover($("handover-during"), shift.site);
      drawTabs();
      drawEntries(records, pending, shift);
      screens.forEach(function (screen) { screen.draw(records, pending); });
    });
  }

  // The daily activity report of the shift just ended, once the server has all of it.
  function drawLastReport(records, pending) {
    var box = $("last-report");
    var last = state.lastShift && records.filter(function (r) { return r.uuid === state.lastShift; })[0];
    var ready = Boolean(last && last.serverId && !pending[last.uuid]);
    box.hidden = !ready;
    if (ready) box.querySelector("a").href = root.dataset.shiftUrl.replace("0", String(last.serverId));
  }

  function drawTabs() {
    document.querySelectorAll(".tablet-tabs .tab").forEach(function (button) {
      var active = button.dataset.tab === tab;
      button.setAttribute("aria-pressed", active ? "true" : "false");
      button.classList.toggle("secondary", !active);
      $("tab-" + button.dataset.tab).hidden = !active;
    });
  }

  function drawEntries(records, pending, shift) {
    var list = $("entry-list");
    list.textContent = "";
    records.filter(function (r) { return r.type === "entry" && r.shift === shift.uuid; }).forEach(function (r) {
      item(list, formatTime(r.at, shift.site) + " · " + r.kindLabel + " · " + r.text, pending[r.uuid]);
    });
  }

  function drawSync(count, status) {
    var unsynced = $("unsynced");
    // Only a change is announced (a live region repeating "Unsynced: 0" every 30 s is noise).
    if (unsynced.dataset.count !== String(count)) {
      unsynced.dataset.count = String(count);
      unsynced.textContent = t("unsynced", { count: count });
    }
    drawConnection(status && status.state);
    var detail = count ? t("kept_until_confirmed", { count: count }) : t("all_on_server");
    outbox.othersWaiting().then(function (others) {
      Object.keys(others).forEach(function (user) {
        detail += " " + t("others_waiting", { count: others[user], user: user });
      });
      $("sync-detail").textContent = detail;
    });
    drawProblems();
    // Another tab may have changed the shift or round: take the stored state.
    outbox.getState("tablet").then(function (stored) {
      if (stored) state = Object.assign(state, stored);
      draw();
    });
  }

  function drawConnection(syncState) {
    var connection = $("connection");
    var words = t("online");
    if (!navigator.onLine || syncState === "offline") words = t("offline");
    else if (syncState === "signed-out") words = t("signed_out");
    else if (syncState === "server-error") words = t("server_trouble");
    connection.textContent = words;
    connection.className = "badge " + (words === t("online") ? "online" : "offline");
  }

  function button(label, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "secondary";
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  function drawProblems() {
    outbox.entries().then(function (entries) {
      var list = $("problems");
      list.textContent = "";
      entries.filter(function (e) { return e.problem; }).forEach(function (entry) {
        var li = document.createElement("li");
        li.className = "warning problem";
        var title = document.createElement("strong");
        title.textContent = entry.label + ": ";
        li.appendChild(title);
        li.appendChild(document.createTextNode(entry.problem.message + " "));
        var advice = document.createElement("p");
        advice.className = "help";
        advice.textContent = entry.problem.advice;
        li.appendChild(advice);
        var actions = document.createElement("div");
        actions.className = "actions";
        actions.appendChild(button(t("try_again", { label: entry.label }), function () { outbox.sync({ retryRefused: true }); }));
        var shiftUuid = noteShiftFor(entry);
        if (typeof entry.problem.status === "number" && shiftUuid) {
          actions.appendChild(button(t("keep_as_note", { label: entry.label }), function () { keepAsNote(entry, shiftUuid); }));
        }
        li.appendChild(actions);
        list.appendChild(li);
      });
    });
  }

  // The shift a refused record happened in: its own shift reference, or the shift it was
  // made during. A refused shift start has none (there is nowhere to write the note).
  function noteShiftFor(entry) {
    if (entry.kind === "shift") return null;
    if (entry.refs && entry.refs.shift) return entry.refs.shift;
    if (entry.kind === "shift-end") return entry.recordUuid;
    return entry.shiftUuid || (state.shift && state.shift.uuid) || null;
  }

  function describeEntry(entry) {
    var body = entry.body || {};
    var parts = [entry.label];
    if (body.tag_code) parts.push(t("note_code", { code: body.tag_code }));
    if (body.text) parts.push(t("note_text", { text: body.text }));
    if (body.narrative) parts.push(t("note_narrative", { text: body.narrative }));
    if (body.pass_down_notes) parts.push(t("note_pass_down", { text: body.pass_down_notes }));
    return parts.join("; ");
  }

  function keepAsNote(entry, shiftUuid) {
    if (!window.confirm(t("keep_as_note_question", { label: entry.label }))) return;
    var uuid = outbox.newUuid();
    var note = {
      uuid: uuid, kind: "shift-entry", kindLabel: t("kind_log_entry"), label: t("label_note_refused"),
      url: "/api/v1/shift-entries/", refs: { shift: shiftUuid },
      body: {
        client_uuid: uuid, kind: "other", occurred_at: entry.createdAt,
        text: t("note_refused_text", { what: describeEntry(entry), answer: entry.problem.message }).slice(0, 4000),
      },
    };
    outbox.replaceWithNote(entry.seq, note).then(function () { say(t("kept_as_note")); }, notSaved);
  }

  // ---- actions --------------------------------------------------------------------------

  function startShift(event) {
    event.preventDefault();
    var code = $("shift-site").value;
    if (!code) return;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var entry = {
      uuid: uuid, kind: "shift", kindLabel: t("kind_shift_start"), label: t("label_shift_start", { site: code }),
      url: "/api/v1/shifts/", body: { site: code, client_uuid: uuid, started_at: now,
        post_order_versions: window.FacilityLogPostOrders ? window.FacilityLogPostOrders.acknowledged(code) : [] },
    };
    var next = copy(state);
    next.shift = { uuid: uuid, site: code, startedAt: now };
    next.run = null;
    tab = "log";
    commit([entry], [{ uuid: uuid, type: "shift", site: code, at: now }], next, t("shift_started"))
      .then(function () { $("shift-heading").focus(); });
  }

  function addEntry(event) {
    event.preventDefault();
    var kind = $("entry-kind").value;
    var words = $("entry-text").value.trim();
    if (!words) { $("entry-text").focus(); return; }
    var kindLabel = $("entry-kind").selectedOptions[0].textContent;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var entry = {
      uuid: uuid, kind: "shift-entry", kindLabel: t("kind_log_entry"), label: t("label_log_entry", { kind: kindLabel }),
      url: "/api/v1/shift-entries/", refs: { shift: state.shift.uuid },
      body: { client_uuid: uuid, kind: kind, occurred_at: now, text: words },
    };
    var record = { uuid: uuid, type: "entry", shift: state.shift.uuid, at: now, kind: kind, kindLabel: kindLabel, text: words };
    commit([entry], [record], copy(state), t("entry_saved")).then(function () {
      if (saved()) $("entry-text").value = "";
    });
  }

  function endShift(event) {
    event.preventDefault();
    if (!window.confirm(state.run ? t("end_shift_round_open") : t("end_shift_question"))) return;
    var shift = state.shift;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var notes = $("pass-down").value.trim();
    var entry = {
      uuid: uuid, recordUuid: shift.uuid, kind: "shift-end", kindLabel: t("kind_shift_end"), label: t("label_shift_end", { site: shift.site }),
      url: "/api/v1/shifts/{shift}/end/", refs: { shift: shift.uuid },
      body: { ended_at: now, pass_down_notes: notes },
    };
    screens.forEach(function (screen) { screen.leave(); });
    var next = copy(state);
    next.endedShifts.push(shift.uuid);
    next.lastShift = shift.uuid;
    next.shift = null;
    next.run = null;
    next.handovers = next.handovers || {};
    next.handovers[shift.site] = { guard: bundle.user_name || bundle.user, ended_at: now, notes: notes };
    commit([entry], [], next, t("shift_ended")).then(function () {
      // The End shift form is gone: focus the next screen's heading, not <body>.
      $("start-shift-heading").focus();
      if (!saved()) return;
      $("pass-down").value = "";
      $("shift-site").value = shift.site;
      drawHandover($("handover-before"), shift.site);
    });
  }

  // ---- start ----------------------------------------------------------------------------

  function fillSelects() {
    var sites = $("shift-site");
    bundle.sites.forEach(function (s) { option(sites, s.code, t("site_option", { name: s.name, code: s.code })); });
    $("no-sites").hidden = bundle.sites.length > 0;
    bundle.entry_kinds.forEach(function (k) { option($("entry-kind"), k.value, k.label); });
  }

  // A shift this guard opened elsewhere (or before the tablet was reset) is taken up rather
  // than started twice; one this tablet has just ended is not.
  function adoptOpenShift(entries) {
    if (state.shift) return Promise.resolve();
    var ending = {};
    entries.forEach(function (e) { if (e.kind === "shift-end") ending[e.recordUuid] = true; });
    var open = bundle.sites.map(function (s) { return s.open_shift ? { site: s.code, shift: s.open_shift } : null; })
      .filter(function (x) { return x && !ending[x.shift.client_uuid] && state.endedShifts.indexOf(x.shift.client_uuid) < 0; })[0];
    if (!open) return Promise.resolve();
    state.shift = { uuid: open.shift.client_uuid, site: open.site, startedAt: open.shift.started_at };
    return outbox.rememberId(open.shift.client_uuid, open.shift.id).then(function () {
      return outbox.setState("tablet", state);
    });
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.tabletUrl }).then(function () {
      root.dataset.offlineReady = "pending";
      return navigator.serviceWorker.ready;
    }).then(function () {
      root.dataset.offlineReady = "yes";
    }).catch(function (error) {
      $("storage-note").textContent = t("not_stored_offline", { error: error.message });
    });
  }

  function askPersistentStorage() {
    if (!navigator.storage || !navigator.storage.persist) return;
    navigator.storage.persist().then(function (granted) {
      $("storage-note").textContent = granted ? t("storage_kept") : t("storage_may_clear");
    });
  }

  function bind() {
    $("start-shift-form").addEventListener("submit", startShift);
    $("shift-site").addEventListener("change", draw);
    $("entry-form").addEventListener("submit", addEntry);
    $("end-shift-form").addEventListener("submit", endShift);
    $("sync-now").addEventListener("click", function () { outbox.sync({ retryRefused: true }); });
    screens.forEach(function (screen) { screen.bind(); });
    document.querySelectorAll(".tablet-tabs .tab").forEach(function (tabButton) {
      tabButton.addEventListener("click", function () {
        screens.forEach(function (screen) { screen.leave(tabButton.dataset.tab); });
        tab = tabButton.dataset.tab;
        draw();
      });
    });
  }

  function start() {
    fillSelects();
    bind();
    Promise.all([outbox.getState("tablet"), outbox.entries()]).then(function (loaded) {
      if (loaded[0]) state = Object.assign(state, loaded[0]);
      state.endedShifts = state.endedShifts || [];
      state.finishedRuns = state.finishedRuns || [];
      state.handovers = state.handovers || {};
      delete state.tab;
      return adoptOpenShift(loaded[1]);
    }).then(function () {
      outbox.onChange(drawSync);
      root.dataset.ready = "yes";
    });
    registerServiceWorker();
    askPersistentStorage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
