// The guard's tablet screens. Every action is written to the outbox (outbox.js) first and
// shown as "saved on this tablet"; the outbox sends it when there is a network. The screens
// are drawn from what is stored on the tablet, so a reload with no network shows the same.
(function () {
  "use strict";

  var outbox = window.FacilityLogOutbox;
  var scanner = window.FacilityLogScanner;
  var root = document.getElementById("tablet");
  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  // The screens' state, kept in IndexedDB with the outbox entries it belongs to; `tab` is
  // this browser tab's own and not stored.
  var state = { shift: null, run: null, endedShifts: [], lastShift: null };
  var tab = "log";
  var stopCamera = null;
  var stopNfc = null;

  function $(id) { return document.getElementById(id); }

  function site(code) {
    return bundle.sites.filter(function (s) { return s.code === code; })[0] || null;
  }

  function formatTime(iso, siteCode) {
    var s = site(siteCode);
    try {
      return new Intl.DateTimeFormat(undefined, {
        dateStyle: "short", timeStyle: "short", timeZone: s ? s.time_zone : undefined,
      }).format(new Date(iso));
    } catch (e) {
      return new Date(iso).toLocaleString();
    }
  }

  function option(select, value, label) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    select.appendChild(element);
  }

  function item(list, text, pending, className) {
    var li = document.createElement("li");
    if (className) li.className = className;
    li.textContent = text + " ";
    var badge = document.createElement("span");
    badge.className = "badge " + (pending ? "pending" : "sent");
    badge.textContent = pending ? "waiting to send" : "sent";
    li.appendChild(badge);
    list.appendChild(li);
  }

  function say(text) {
    var box = $("saved-message");
    box.classList.remove("not-saved");
    box.textContent = text;
  }

  // A save that failed is said loudly and the screen is left as it was.
  function notSaved(error) {
    var box = $("saved-message");
    box.classList.add("not-saved");
    box.textContent = "NOT saved: " + (error && error.message ? error.message : String(error)) +
      " Nothing was changed; try again, and tell your supervisor if it keeps failing.";
  }

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

  // ---- drawing --------------------------------------------------------------------------

  function drawHandover(box, siteCode) {
    box.textContent = "";
    var s = site(siteCode);
    var heading = document.createElement("h3");
    heading.textContent = "Pass-down notes from the previous shift";
    box.appendChild(heading);
    var text = document.createElement("p");
    text.className = "narrative";
    if (s && s.handover) {
      text.textContent = s.handover.notes || "(no notes were left)";
      var who = document.createElement("p");
      who.className = "help";
      who.textContent = "Left by " + s.handover.guard + " at " + formatTime(s.handover.ended_at, siteCode);
      box.appendChild(text);
      box.appendChild(who);
    } else {
      text.textContent = "No earlier shift has left notes at this site.";
      box.appendChild(text);
    }
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
      fillShiftSelects();
      var s = site(shift.site) || { name: shift.site, routes: [], zones: [] };
      $("shift-summary").textContent = "On shift at " + s.name + " (" + shift.site + ") since " + formatTime(shift.startedAt, shift.site) + ".";
      drawHandover($("handover-during"), shift.site);
      drawTabs();
      drawEntries(records, pending, shift);
      drawRound(records, pending);
      drawIncidents(records, pending, shift);
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

  function drawRound(records, pending) {
    var run = state.run;
    $("round-start-form").hidden = Boolean(run);
    $("round-active").hidden = !run;
    if (!run) return;
    var scans = records.filter(function (r) { return r.type === "scan" && r.run === run.uuid; });
    var done = {};
    scans.forEach(function (scan) { if (scan.stop) done[scan.stop] = true; });
    var matched = Object.keys(done).length;
    $("round-summary").textContent = run.routeName + ": " + matched + " of " + run.stops.length + " checkpoints scanned";
    var stops = $("stop-list");
    stops.textContent = "";
    run.stops.forEach(function (stop) {
      var li = document.createElement("li");
      li.textContent = (done[stop.name] ? "✓ " : "") + stop.name;
      if (done[stop.name]) li.className = "done";
      stops.appendChild(li);
    });
    var list = $("scan-list");
    list.textContent = "";
    scans.forEach(function (scan) {
      item(list, formatTime(scan.at, state.shift.site) + " · " + (scan.stop || "code " + scan.code + " (checked by the server)"), pending[scan.uuid]);
    });
  }

  function drawIncidents(records, pending, shift) {
    var list = $("incident-list");
    list.textContent = "";
    records.filter(function (r) { return r.type === "incident" && r.site === shift.site; }).forEach(function (r) {
      var text = formatTime(r.occurredFrom || r.at, shift.site) + " · " + (r.title || r.narrative.slice(0, 60)) + (r.photo ? " · with photo" : "");
      item(list, text, pending[r.uuid]);
    });
  }

  function drawSync(count, status) {
    var unsynced = $("unsynced");
    // Only a change is announced (a live region repeating "Unsynced: 0" every 30 s is noise).
    if (unsynced.textContent !== "Unsynced: " + count) {
      unsynced.dataset.count = String(count);
      unsynced.textContent = "Unsynced: " + count;
    }
    var connection = $("connection");
    var state_ = status && status.state;
    if (!navigator.onLine || state_ === "offline") {
      connection.textContent = "Offline — saving on this tablet";
      connection.className = "badge offline";
    } else if (state_ === "signed-out") {
      connection.textContent = "Signed out — sign in again to send";
      connection.className = "badge offline";
    } else if (state_ === "server-error") {
      connection.textContent = "Server trouble — will retry";
      connection.className = "badge offline";
    } else {
      connection.textContent = "Online";
      connection.className = "badge online";
    }
    var detail = count
      ? count + " item" + (count === 1 ? "" : "s") + " kept on this tablet until the server confirms them."
      : "Everything is on the server.";
    outbox.othersWaiting().then(function (others) {
      Object.keys(others).forEach(function (user) {
        detail += " " + others[user] + " item(s) made by " + user + " wait on this tablet until " + user + " signs in.";
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
        var retry = document.createElement("button");
        retry.type = "button";
        retry.className = "secondary";
        retry.textContent = "Try again: " + entry.label;
        retry.addEventListener("click", function () { outbox.sync({ retryRefused: true }); });
        actions.appendChild(retry);
        var shiftUuid = noteShiftFor(entry);
        if (typeof entry.problem.status === "number" && shiftUuid) {
          var keep = document.createElement("button");
          keep.type = "button";
          keep.className = "secondary";
          keep.textContent = "Keep as a note in the shift log: " + entry.label;
          keep.addEventListener("click", function () { keepAsNote(entry, shiftUuid); });
          actions.appendChild(keep);
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
    if (body.tag_code) parts.push("code " + body.tag_code);
    if (body.text) parts.push("text: " + body.text);
    if (body.narrative) parts.push("narrative: " + body.narrative);
    if (body.pass_down_notes) parts.push("pass-down notes: " + body.pass_down_notes);
    return parts.join("; ");
  }

  function keepAsNote(entry, shiftUuid) {
    var question = "Keep \"" + entry.label + "\" as a note in the shift log instead? The note says what was entered and what the server answered; your supervisor sees it in the daily activity report.";
    if (!window.confirm(question)) return;
    var uuid = outbox.newUuid();
    var note = {
      uuid: uuid, kind: "shift-entry", kindLabel: "log entry", label: "Note about a refused record",
      url: "/api/v1/shift-entries/", refs: { shift: shiftUuid },
      body: {
        client_uuid: uuid, kind: "other", occurred_at: entry.createdAt,
        text: ("Not accepted by the server: " + describeEntry(entry) + ". The server said: " + entry.problem.message).slice(0, 4000),
      },
    };
    outbox.replaceWithNote(entry.seq, note).then(function () {
      say("Kept as a note in the shift log; it is sent with the rest.");
    }, notSaved);
  }

  // ---- actions --------------------------------------------------------------------------

  function startShift(event) {
    event.preventDefault();
    var code = $("shift-site").value;
    if (!code) return;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var entry = {
      uuid: uuid, kind: "shift", kindLabel: "shift start", label: "Shift start at " + code,
      url: "/api/v1/shifts/", body: { site: code, client_uuid: uuid, started_at: now,
        post_order_versions: window.FacilityLogPostOrders ? window.FacilityLogPostOrders.acknowledged(code) : [] },
    };
    var next = copy(state);
    next.shift = { uuid: uuid, site: code, startedAt: now };
    next.run = null;
    tab = "log";
    commit([entry], [{ uuid: uuid, type: "shift", site: code, at: now }], next, "Shift started and saved on this tablet.")
      .then(function () { $("shift-heading").focus(); });
  }

  function addEntry(event) {
    event.preventDefault();
    var kind = $("entry-kind").value;
    var text = $("entry-text").value.trim();
    if (!text) { $("entry-text").focus(); return; }
    var kindLabel = $("entry-kind").selectedOptions[0].textContent;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var entry = {
      uuid: uuid, kind: "shift-entry", kindLabel: "log entry", label: "Log entry (" + kindLabel + ")",
      url: "/api/v1/shift-entries/", refs: { shift: state.shift.uuid },
      body: { client_uuid: uuid, kind: kind, occurred_at: now, text: text },
    };
    var record = { uuid: uuid, type: "entry", shift: state.shift.uuid, at: now, kind: kind, kindLabel: kindLabel, text: text };
    commit([entry], [record], copy(state), "Log entry saved on this tablet.").then(function () {
      if (!$("saved-message").classList.contains("not-saved")) $("entry-text").value = "";
    });
  }

  function startRound(event) {
    event.preventDefault();
    var s = site(state.shift.site);
    var routeId = Number($("round-route").value);
    var route = s && s.routes.filter(function (r) { return r.id === routeId; })[0];
    if (!route) return;
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var entry = {
      uuid: uuid, kind: "run", kindLabel: "round start", label: "Round start (" + route.name + ")",
      url: "/api/v1/runs/", body: { route: route.id, client_uuid: uuid, started_at: now },
      shiftUuid: state.shift.uuid,
    };
    var next = copy(state);
    next.run = { uuid: uuid, routeId: route.id, routeName: route.name, startedAt: now, stops: route.stops };
    commit([entry], [{ uuid: uuid, type: "run", at: now, route: route.name }], next,
      "Round started: " + route.name + ". Saved on this tablet.")
      .then(function () { $("round-summary").focus(); });
  }

  function normalizeCode(value) {
    return (value || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
  }

  function hintOf(code) {
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null);
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(code)).then(function (buffer) {
      return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("").slice(0, 8);
    });
  }

  function recordScan(rawCode, method) {
    var code = normalizeCode(rawCode);
    if (!code) {
      $("scan-hint").textContent = "That is not a checkpoint code.";
      return Promise.resolve();
    }
    var run = state.run;
    if (!run) {
      say("No round is open: start a round before scanning.");
      return Promise.resolve();
    }
    return hintOf(code).then(function (hint) {
      var stop = run.stops.filter(function (s) { return s.hint === hint; })[0];
      if (!stop && method === "manual" && !window.confirm(
        "The code " + code + " matches no checkpoint on this round. It may be mistyped. Record it anyway?")) {
        $("scan-hint").textContent = "Not recorded. Check the code on the label and type it again.";
        return null;
      }
      var uuid = outbox.newUuid();
      var now = new Date().toISOString();
      var name = stop ? stop.name : null;
      var entry = {
        uuid: uuid, kind: "scan", kindLabel: "scan", label: "Scan " + (name || code),
        url: "/api/v1/scans/", refs: { run: run.uuid }, stampSentAt: "device_sent_at",
        shiftUuid: state.shift && state.shift.uuid,
        body: { tag_code: code, client_uuid: uuid, method: method, device_time: now },
      };
      var record = { uuid: uuid, type: "scan", run: run.uuid, at: now, code: code, stop: name, method: method };
      var message = name
        ? "Saved on this tablet: " + name + "."
        : "Saved on this tablet. The code is not on this route as far as the tablet knows; the server will check it.";
      return commit([entry], [record], copy(state), message).then(function () {
        $("scan-hint").textContent = $("saved-message").textContent;
      });
    });
  }

  function manualScan(event) {
    event.preventDefault();
    var input = $("manual-code");
    var code = input.value;
    input.value = "";
    recordScan(code, "manual").then(function () { input.focus(); });
  }

  function cameraScan() {
    stopReaders();
    $("camera-box").hidden = false;
    $("scan-hint").textContent = "Point the camera at the checkpoint's QR label.";
    stopCamera = scanner.startCamera($("camera-video"), root.dataset.jsqrUrl, function (code) {
      stopCamera = null;
      $("camera-box").hidden = true;
      recordScan(code, "qr");
    }, function (error) {
      stopCamera = null;
      $("camera-box").hidden = true;
      $("scan-hint").textContent = error.message;
      say(error.message);
    });
  }

  // The camera and the NFC reader stop whenever the round screen is left or closed.
  function stopReaders() {
    if (stopCamera) stopCamera();
    if (stopNfc) stopNfc();
    stopCamera = stopNfc = null;
    $("camera-box").hidden = true;
  }

  function nfcScan() {
    stopReaders();
    $("scan-hint").textContent = "Hold the tablet against the checkpoint's NFC tag.";
    stopNfc = scanner.readNfc(function (code) { stopNfc = null; recordScan(code, "nfc"); }, function (error) {
      $("scan-hint").textContent = error.message || String(error);
      say($("scan-hint").textContent);
    });
  }

  function finishRound() {
    var run = state.run;
    outbox.records().then(function (records) {
      var scanned = {};
      records.forEach(function (r) { if (r.type === "scan" && r.run === run.uuid && r.stop) scanned[r.stop] = true; });
      var missing = run.stops.length - Object.keys(scanned).length;
      var question = missing > 0
        ? missing + " checkpoint" + (missing === 1 ? " is" : "s are") + " not scanned and will be recorded as missed. Finish the round anyway?"
        : "Finish the round?";
      if (!window.confirm(question)) return;
      stopReaders();
      var uuid = outbox.newUuid();
      var entry = {
        uuid: uuid, recordUuid: run.uuid, kind: "run-finish", kindLabel: "round finish",
        label: "Round finish (" + run.routeName + ")", url: "/api/v1/runs/{run}/finish/",
        refs: { run: run.uuid }, shiftUuid: state.shift && state.shift.uuid,
        body: { finished_at: new Date().toISOString() },
      };
      var next = copy(state);
      next.run = null;
      commit([entry], [], next, "Round finished. Saved on this tablet.");
    });
  }

  // The incident form's times are the site's wall-clock time, whatever zone the tablet's
  // clock is set to.
  function zoneParts(date, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  function zoneOffsetMs(date, zone) {
    var p = zoneParts(date, zone);
    var asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - Math.floor(date.getTime() / 1000) * 1000;
  }

  function siteZone() {
    var s = state.shift && site(state.shift.site);
    return s ? s.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  // "When it happened" shows the site's time now, until the guard changes it.
  function whenIsNow() {
    var field = $("incident-when");
    delete field.dataset.touched;
    field.value = localInputValue(new Date());
  }

  function localInputValue(date) {
    var p = zoneParts(date, siteZone());
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }

  // "2026-11-27T02:10" at the site → the instant (two passes settle a DST change).
  function instantFromInput(value) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!match) return null;
    var wall = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]);
    var zone = siteZone();
    var guess = wall - zoneOffsetMs(new Date(wall), zone);
    return new Date(wall - zoneOffsetMs(new Date(guess), zone));
  }

  function saveIncident(event) {
    event.preventDefault();
    var form = $("incident-form");
    var narrative = $("incident-narrative").value.trim();
    if (!narrative) { $("incident-narrative").focus(); return; }
    var when = instantFromInput($("incident-when").value);
    if (!when) { $("incident-when").focus(); return; }
    var uuid = outbox.newUuid();
    var now = new Date().toISOString();
    var body = {
      site: state.shift.site, client_uuid: uuid, title: $("incident-title").value.trim(),
      severity: $("incident-severity").value, occurred_from: when.toISOString(), narrative: narrative,
    };
    if ($("incident-category").value) body.category = Number($("incident-category").value);
    if ($("incident-zone").value) body.zone = Number($("incident-zone").value);
    var entries = [{
      uuid: uuid, kind: "incident", kindLabel: "incident draft", label: "Incident draft" + (body.title ? " (" + body.title + ")" : ""),
      url: "/api/v1/incidents/", body: body,
    }];
    var photo = $("incident-photo").files[0];
    if (photo) {
      var photoUuid = outbox.newUuid();
      entries.push({
        uuid: photoUuid, recordUuid: uuid, kind: "attachment", kindLabel: "photo",
        label: "Photo for incident draft", url: "/api/v1/incidents/{incident}/attachments/",
        refs: { incident: uuid }, form: { description: "Photo taken on the guard tablet" },
        file: { field: "file", blob: photo, name: photo.name || "photo.jpg" },
      });
    }
    entries.forEach(function (e) { e.shiftUuid = state.shift.uuid; });
    var record = {
      uuid: uuid, type: "incident", site: state.shift.site, at: now, occurredFrom: body.occurred_from,
      title: body.title, narrative: narrative, photo: photo ? photo.name || "photo" : null,
    };
    commit(entries, [record], copy(state), "Incident draft saved on this tablet" + (photo ? " with its photo" : "") + ".")
      .then(function () {
        if ($("saved-message").classList.contains("not-saved")) return;
        form.reset();
        whenIsNow();
      });
  }

  function endShift(event) {
    event.preventDefault();
    var question = state.run
      ? "A round is still open; it stays open on the server until it is finished. End the shift anyway?"
      : "End the shift? The pass-down notes go to the next guard.";
    if (!window.confirm(question)) return;
    var shift = state.shift;
    var uuid = outbox.newUuid();
    var entry = {
      uuid: uuid, recordUuid: shift.uuid, kind: "shift-end", kindLabel: "shift end", label: "Shift end at " + shift.site,
      url: "/api/v1/shifts/{shift}/end/", refs: { shift: shift.uuid },
      body: { ended_at: new Date().toISOString(), pass_down_notes: $("pass-down").value.trim() },
    };
    stopReaders();
    var next = copy(state);
    next.endedShifts.push(shift.uuid);
    next.lastShift = shift.uuid;
    next.shift = null;
    next.run = null;
    commit([entry], [], next, "Shift ended and saved on this tablet. The report is on the server once it is sent.")
      .then(function () {
        if (!$("saved-message").classList.contains("not-saved")) $("pass-down").value = "";
      });
  }

  // ---- start ----------------------------------------------------------------------------

  function fillSelects() {
    var sites = $("shift-site");
    bundle.sites.forEach(function (s) { option(sites, s.code, s.name + " (" + s.code + ")"); });
    $("no-sites").hidden = bundle.sites.length > 0;
    bundle.entry_kinds.forEach(function (k) { option($("entry-kind"), k.value, k.label); });
    option($("incident-category"), "", "— choose later —");
    bundle.categories.forEach(function (c) { option($("incident-category"), c.id, c.name); });
    bundle.severities.forEach(function (s) { option($("incident-severity"), s.value, s.label); });
    $("incident-when").addEventListener("input", function () { $("incident-when").dataset.touched = "yes"; });
  }

  // The route and zone lists belong to the shift's site; filled again only when it changes,
  // so a redraw never resets what the guard is choosing.
  var selectsFilledFor = null;
  function fillShiftSelects() {
    if (!state.shift || selectsFilledFor === state.shift.site) return;
    selectsFilledFor = state.shift.site;
    var s = site(state.shift.site);
    var routes = $("round-route");
    var zones = $("incident-zone");
    routes.textContent = "";
    zones.textContent = "";
    option(zones, "", "— no zone —");
    if (!s) return;
    s.routes.forEach(function (r) { option(routes, r.id, r.name + " (" + r.stops.length + " checkpoints)"); });
    s.zones.forEach(function (z) { option(zones, z.id, z.name); });
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
      $("storage-note").textContent = "This page could not be stored for offline use: " + error.message;
    });
  }

  function askPersistentStorage() {
    if (!navigator.storage || !navigator.storage.persist) return;
    navigator.storage.persist().then(function (granted) {
      $("storage-note").textContent = granted
        ? "Storage on this tablet is kept: the browser will not clear it to save space."
        : "The browser may clear this tablet's storage when space runs low; add the app to the home screen to keep it.";
    });
  }

  function bind() {
    $("start-shift-form").addEventListener("submit", startShift);
    $("shift-site").addEventListener("change", draw);
    $("entry-form").addEventListener("submit", addEntry);
    $("round-start-form").addEventListener("submit", startRound);
    $("manual-scan-form").addEventListener("submit", manualScan);
    $("scan-camera").addEventListener("click", cameraScan);
    $("camera-stop").addEventListener("click", stopReaders);
    $("scan-nfc").hidden = !scanner.nfcSupported();
    $("scan-nfc").addEventListener("click", nfcScan);
    $("round-finish").addEventListener("click", finishRound);
    $("incident-form").addEventListener("submit", saveIncident);
    $("end-shift-form").addEventListener("submit", endShift);
    $("sync-now").addEventListener("click", function () { outbox.sync({ retryRefused: true }); });
    document.querySelectorAll(".tablet-tabs .tab").forEach(function (button) {
      button.addEventListener("click", function () {
        if (button.dataset.tab !== "round") stopReaders();
        if (button.dataset.tab === "incident" && !$("incident-when").dataset.touched) whenIsNow();
        tab = button.dataset.tab;
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
      delete state.tab;
      return adoptOpenShift(loaded[1]);
    }).then(function () {
      fillShiftSelects();
      outbox.onChange(drawSync);
      root.dataset.ready = "yes";
    });
    registerServiceWorker();
    askPersistentStorage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
