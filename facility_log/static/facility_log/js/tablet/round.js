// The round screen of the guard tablet: choosing the route (the one due now first), taking
// up a round left open on another device, scanning (camera, NFC, typed code), saying at once
// what a scan means (its checkpoint's instructions, or why it is refused, or that it is out
// of order) and, when the round ends, what it missed. Judged on the tablet from its own data,
// so all of it works offline; the server judges again (services/rounds/findings.py).
(function () {
  "use strict";

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

  // What a scanned code means on `run`, given the scans already made in it: its stop, and
  // the stop it was expected before (order) — or why it is refused: "unknown" (no checkpoint
  // of the site), "other-route" (a checkpoint of the site not on this route) or "repeat".
  function judge(run, siteData, hint, scans) {
    var stop = run.stops.filter(function (s) { return s.hint === hint; })[0];
    if (!stop) {
      var other = ((siteData && siteData.checkpoints) || []).filter(function (c) { return c.hint === hint; })[0];
      return other ? { refused: "other-route", checkpoint: other } : { refused: "unknown" };
    }
    var earlier = scans.filter(function (s) { return s.stop === stop.name; })[0];
    if (earlier) return { refused: "repeat", stop: stop, earlier: earlier };
    var expected = null;
    if (run.mustFollowOrder) {
      var done = {};
      scans.forEach(function (s) { if (s.stop) done[s.stop] = true; });
      expected = run.stops.filter(function (s) { return !done[s.name]; })[0] || null;
      if (expected && expected.name === stop.name) expected = null;
    }
    return { stop: stop, expectedBefore: expected };
  }

  // What the round missed: stops never scanned, and stops scanned after their time (the
  // run's start + the stop's minutes + the grace), as the server counts them.
  function roundReport(run, scans) {
    var firstScan = {};
    scans.forEach(function (s) { if (s.stop && !firstScan[s.stop]) firstScan[s.stop] = s; });
    var started = new Date(run.startedAt).getTime();
    var grace = (run.graceMinutes || 0) * 60000;
    var missed = [];
    var late = [];
    run.stops.forEach(function (stop) {
      var scan = firstScan[stop.name];
      if (!scan) { missed.push(stop.name); return; }
      var due = started + (stop.minutes || 0) * 60000 + grace;
      var lateBy = Math.round((new Date(scan.at).getTime() - due) / 60000);
      if (lateBy > 0) late.push({ name: stop.name, minutes: lateBy });
    });
    return { routeName: run.routeName, missed: missed, late: late, scanned: Object.keys(firstScan).length, total: run.stops.length };
  }

  window.FacilityLogTabletRound = function (ctx) {
    var $ = ctx.$;
    var t = ctx.t;
    var outbox = ctx.outbox;
    var scanner = window.FacilityLogScanner;
    var stopCamera = null;
    var stopNfc = null;
    var routesFilledFor = null;

    function state() { return ctx.state(); }

    function scansOf(records, run) {
      return records.filter(function (r) { return r.type === "scan" && r.run === run.uuid; });
    }

    // ---- the route list: the one due now first, and selected ----------------------------

    function dueRouteId(s) {
      var due = s && s.due_route;
      return due && new Date(due.until).getTime() > Date.now() ? due.id : null;
    }

    function fillRoutes() {
      var shift = state().shift;
      if (!shift || routesFilledFor === shift.site) return;
      routesFilledFor = shift.site;
      var s = ctx.site(shift.site);
      var select = $("round-route");
      select.textContent = "";
      if (!s) return;
      var dueId = dueRouteId(s);
      var routes = s.routes.slice().sort(function (a, b) { return (b.id === dueId) - (a.id === dueId); });
      routes.forEach(function (r) {
        var words = t(r.id === dueId ? "route_option_due" : "route_option", { name: r.name, count: r.stops.length });
        ctx.option(select, r.id, words).selected = r.id === dueId;
      });
    }

    // ---- rounds open on another device ---------------------------------------------------

    function openElsewhere(records) {
      var st = state();
      var s = st.shift && ctx.site(st.shift.site);
      if (!s || st.run || !s.open_shift || s.open_shift.client_uuid !== st.shift.uuid) return [];
      var known = {};
      records.forEach(function (r) {
        if (r.type !== "run") return;
        known[r.uuid] = true;
        if (r.serverId) known[r.serverId] = true;
      });
      return (s.open_runs || []).filter(function (run) {
        return !known[run.id] && !known[run.client_uuid] && st.finishedRuns.indexOf(run.id) < 0 &&
          st.finishedRuns.indexOf(run.client_uuid) < 0;
      });
    }

    function drawOpenElsewhere(records) {
      var runs = openElsewhere(records);
      var list = $("open-elsewhere-list");
      list.textContent = "";
      $("open-elsewhere").hidden = runs.length === 0;
      var shiftSite = state().shift && state().shift.site;
      runs.forEach(function (run) {
        var route = routeOf(run.route);
        var li = document.createElement("li");
        li.appendChild(document.createTextNode(t("open_elsewhere_item", {
          name: route ? route.name : "#" + run.route, time: ctx.formatTime(run.started_at, shiftSite),
          done: run.scans.length, total: route ? route.stops.length : "?",
        }) + " "));
        var resume = document.createElement("button");
        resume.type = "button";
        resume.className = "big";
        resume.textContent = t("resume_round", { name: route ? route.name : "#" + run.route });
        resume.addEventListener("click", function () { resumeRound(run); });
        li.appendChild(resume);
        list.appendChild(li);
      });
    }

    function routeOf(id) {
      var s = state().shift && ctx.site(state().shift.site);
      return s ? s.routes.filter(function (r) { return r.id === id; })[0] || null : null;
    }

    function runState(uuid, route, startedAt) {
      return {
        uuid: uuid, routeId: route.id, routeName: route.name, startedAt: startedAt, stops: route.stops,
        mustFollowOrder: Boolean(route.must_follow_order), graceMinutes: route.grace_minutes || 0,
      };
    }

    // Taken up here: its scans so far are shown as sent, and what is scanned here goes into
    // the same run on the server (its id is known, so nothing waits for a client UUID).
    function resumeRound(run) {
      var route = routeOf(run.route);
      if (!route) return;
      var uuid = run.client_uuid || outbox.newUuid();
      var byId = {};
      route.stops.forEach(function (stop) { byId[stop.checkpoint] = stop; });
      var records = [{ uuid: uuid, type: "run", at: run.started_at, route: route.name, serverId: run.id }];
      run.scans.forEach(function (scan) {
        var stop = byId[scan.checkpoint];
        records.push({ uuid: scan.client_uuid, type: "scan", run: uuid, at: scan.at, stop: stop ? stop.name : null, method: "elsewhere" });
      });
      var next = ctx.copy(state());
      next.run = runState(uuid, route, run.started_at);
      outbox.rememberId(uuid, run.id).then(function () {
        return ctx.commit([], records, next, t("round_resumed", { name: route.name }));
      }).then(function () { $("round-summary").focus(); });
    }

    // ---- drawing -------------------------------------------------------------------------

    function draw(records, pending) {
      fillRoutes();
      var run = state().run;
      $("round-start-form").hidden = Boolean(run);
      $("round-active").hidden = !run;
      drawOpenElsewhere(records);
      drawReport();
      if (!run) return;
      var scans = scansOf(records, run);
      var done = {};
      scans.forEach(function (scan) { if (scan.stop) done[scan.stop] = true; });
      $("round-summary").textContent = t("round_progress", { name: run.routeName, done: Object.keys(done).length, total: run.stops.length });
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
      var siteCode = state().shift.site;
      scans.forEach(function (scan) {
        ctx.item(list, ctx.formatTime(scan.at, siteCode) + " · " + (scan.stop || t("scan_code_unchecked", { code: scan.code })), pending[scan.uuid]);
      });
    }

    function drawReport() {
      var report = state().lastRound;
      var box = $("round-report");
      box.hidden = !report || Boolean(state().run);
      if (box.hidden) return;
      $("round-report-summary").textContent = t("report_summary", { name: report.routeName, done: report.scanned, total: report.total });
      var list = $("round-report-list");
      list.textContent = "";
      report.missed.forEach(function (name) { addLine(list, t("report_missed", { name: name }), "danger-text"); });
      report.late.forEach(function (late) { addLine(list, t("report_late", { name: late.name, minutes: late.minutes }), "danger-text"); });
      if (!report.missed.length && !report.late.length) addLine(list, t("report_all_done"), "");
    }

    function addLine(list, words, className) {
      var li = document.createElement("li");
      li.className = className;
      li.textContent = words;
      list.appendChild(li);
    }

    // ---- scanning ------------------------------------------------------------------------

    function showProblem(words) {
      var box = $("scan-problem");
      box.textContent = words;
      box.hidden = !words;
      $("manual-code").setAttribute("aria-invalid", words ? "true" : "false");
    }

    function showInstructions(stop) {
      var box = $("checkpoint-instructions");
      box.hidden = !stop || !stop.instructions;
      if (box.hidden) return;
      $("checkpoint-instructions-heading").textContent = t("instructions_for", { name: stop.name });
      $("checkpoint-instructions-text").textContent = stop.instructions;
    }

    function refusal(verdict, code, run) {
      if (verdict.refused === "other-route") return t("refused_other_route", { name: verdict.checkpoint.name, route: run.routeName });
      if (verdict.refused === "repeat") {
        return t("refused_repeat", { name: verdict.stop.name, time: ctx.formatTime(verdict.earlier.at, state().shift.site) });
      }
      return t("refused_unknown", { code: code });
    }

    // Resolves true when the scan was saved (the typed code may then be cleared).
    function recordScan(rawCode, method) {
      var code = normalizeCode(rawCode);
      showInstructions(null);
      if (!code) { showProblem(t("not_a_code")); return Promise.resolve(false); }
      var run = state().run;
      if (!run) { ctx.say(t("no_round_open")); return Promise.resolve(false); }
      return Promise.all([hintOf(code), outbox.records()]).then(function (loaded) {
        var verdict = judge(run, ctx.site(state().shift.site), loaded[0], scansOf(loaded[1], run));
        // A code the tablet does not know may be a checkpoint added since the page was
        // loaded: the guard may still send it for the server to check.
        var sendUnknown = verdict.refused === "unknown" && (method !== "manual" || window.confirm(t("confirm_unknown", { code: code })));
        if (verdict.refused && !sendUnknown) {
          showProblem(refusal(verdict, code, run));
          $("scan-hint").textContent = "";
          return false;
        }
        return saveScan(run, code, method, verdict.stop || null).then(function (ok) {
          if (!ok) return false;
          showProblem(verdict.expectedBefore ? t("warn_out_of_order", { name: verdict.stop.name, expected: verdict.expectedBefore.name }) : "");
          showInstructions(verdict.stop);
          return true;
        });
      });
    }

    function saveScan(run, code, method, stop) {
      var uuid = outbox.newUuid();
      var now = new Date().toISOString();
      var name = stop ? stop.name : null;
      var entry = {
        uuid: uuid, kind: "scan", kindLabel: t("kind_scan"), label: t("label_scan", { name: name || code }),
        url: "/api/v1/scans/", refs: { run: run.uuid }, stampSentAt: "device_sent_at",
        shiftUuid: state().shift && state().shift.uuid,
        body: { tag_code: code, client_uuid: uuid, method: method, device_time: now },
      };
      var record = { uuid: uuid, type: "scan", run: run.uuid, at: now, code: code, stop: name, method: method };
      var message = name ? t("scan_saved", { name: name }) : t("scan_saved_unknown");
      return ctx.commit([entry], [record], ctx.copy(state()), message).then(function () {
        $("scan-hint").textContent = $("saved-message").textContent;
        return ctx.saved();
      });
    }

    function manualScan(event) {
      event.preventDefault();
      var input = $("manual-code");
      recordScan(input.value, "manual").then(function (ok) {
        if (ok) input.value = "";
        input.focus();
      });
    }

    function cameraScan() {
      stopReaders();
      $("camera-box").hidden = false;
      $("scan-hint").textContent = t("point_camera");
      stopCamera = scanner.startCamera($("camera-video"), ctx.root.dataset.jsqrUrl, function (code) {
        stopCamera = null;
        $("camera-box").hidden = true;
        recordScan(code, "qr");
      }, function (error) {
        stopCamera = null;
        $("camera-box").hidden = true;
        $("scan-hint").textContent = error.message;
        ctx.say(error.message);
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
      $("scan-hint").textContent = t("hold_nfc");
      stopNfc = scanner.readNfc(function (code) { stopNfc = null; recordScan(code, "nfc"); }, function (error) {
        $("scan-hint").textContent = error.message || String(error);
        ctx.say($("scan-hint").textContent);
      });
    }

    // ---- starting and finishing ----------------------------------------------------------

    function startRound(event) {
      event.preventDefault();
      var route = routeOf(Number($("round-route").value));
      if (!route) return;
      var uuid = outbox.newUuid();
      var now = new Date().toISOString();
      var entry = {
        uuid: uuid, kind: "run", kindLabel: t("kind_round_start"), label: t("label_round_start", { name: route.name }),
        url: "/api/v1/runs/", body: { route: route.id, client_uuid: uuid, started_at: now },
        shiftUuid: state().shift.uuid,
      };
      var next = ctx.copy(state());
      next.run = runState(uuid, route, now);
      next.lastRound = null;
      showProblem("");
      showInstructions(null);
      ctx.commit([entry], [{ uuid: uuid, type: "run", at: now, route: route.name }], next, t("round_started", { name: route.name }))
        .then(function () { $("round-summary").focus(); });
    }

    function finishRound() {
      var run = state().run;
      outbox.records().then(function (records) {
        var report = roundReport(run, scansOf(records, run));
        var missing = report.missed.length;
        if (!window.confirm(missing ? t("confirm_finish_missing", { count: missing }) : t("confirm_finish"))) return;
        stopReaders();
        var uuid = outbox.newUuid();
        var entry = {
          uuid: uuid, recordUuid: run.uuid, kind: "run-finish", kindLabel: t("kind_round_finish"),
          label: t("label_round_finish", { name: run.routeName }), url: "/api/v1/runs/{run}/finish/",
          refs: { run: run.uuid }, shiftUuid: state().shift && state().shift.uuid,
          body: { finished_at: new Date().toISOString() },
        };
        var next = ctx.copy(state());
        next.run = null;
        next.lastRound = report;
        next.finishedRuns = (next.finishedRuns || []).concat([run.uuid]);
        showProblem("");
        showInstructions(null);
        ctx.commit([entry], [], next, t("round_finished")).then(function () { $("round-report-heading").focus(); });
      });
    }

    function bind() {
      $("round-start-form").addEventListener("submit", startRound);
      $("manual-scan-form").addEventListener("submit", manualScan);
      $("manual-code").addEventListener("input", function () { showProblem(""); });
      $("scan-camera").addEventListener("click", cameraScan);
      $("camera-stop").addEventListener("click", stopReaders);
      $("scan-nfc").hidden = !scanner.nfcSupported();
      $("scan-nfc").addEventListener("click", nfcScan);
      $("round-finish").addEventListener("click", finishRound);
    }

    // Leaving the round screen (another tab, or the shift ends) stops the camera and reader.
    function leave(nextTab) {
      if (nextTab !== "round") stopReaders();
      if (!nextTab) routesFilledFor = null;
    }

    return { bind: bind, draw: draw, leave: leave };
  };

  window.FacilityLogTabletRound.judge = judge;
  window.FacilityLogTabletRound.roundReport = roundReport;
})();
