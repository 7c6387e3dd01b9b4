// The panic (duress) button, on every screen of the tablet.
//
// Two steps, so a glove or a pocket does not send it: "Panic" opens a confirmation that
// closes by itself after a few seconds; only "Send duress alarm" (placed apart) sends it.
// Silent mode ("Send silently", or holding "Send now" for 3 seconds) sends the same alarm
// and leaves the screen as it was: nothing conspicuous for someone looking over the guard's
// shoulder.
//
// The press goes into the outbox like everything else, and the outbox sends panic presses
// before anything else (outbox.js). What it carries: the site, the guard's shift, the last
// checkpoint scanned on this tablet and its time. No position is read.
// Until the server has confirmed it, the tablet says plainly that nobody has been told yet.
(function () {
  "use strict";

  // Its sentences come from the page (text.js), like every other tablet script's.
  var t = window.FacilityLogTabletText.t;

  var outbox = window.FacilityLogOutbox;
  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  var CONFIRM_MS = 8000;
  var HOLD_MS = 3000;
  var RETRY_MS = 2000;
  var confirmTimer = null;

  function $(id) { return document.getElementById(id); }

  function siteData(code) {
    return bundle.sites.filter(function (s) { return s.code === code; })[0] || null;
  }

  // The checkpoint id of a stop the tablet scanned (scans keep the stop's name; names are
  // unique per site).
  function checkpointId(siteCode, name) {
    var s = siteData(siteCode);
    var found = null;
    (s ? s.routes : []).forEach(function (route) {
      route.stops.forEach(function (stop) { if (stop.name === name) found = stop.checkpoint; });
    });
    return found;
  }

  // The last scan of a known checkpoint this guard made on this tablet during the shift.
  function lastScan(records, state) {
    var scans = records.filter(function (r) {
      return r.type === "scan" && r.stop && (!state.shift.startedAt || r.at >= state.shift.startedAt);
    });
    return scans.length ? scans[scans.length - 1] : null;
  }

  function closeConfirm() {
    clearTimeout(confirmTimer);
    $("panic-confirm").hidden = true;
    $("panic-open").setAttribute("aria-expanded", "false");
  }

  function openConfirm() {
    $("panic-confirm").hidden = false;
    $("panic-open").setAttribute("aria-expanded", "true");
    $("panic-send").focus();
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(closeConfirm, CONFIRM_MS);
  }

  function press(silent) {
    closeConfirm();
    return Promise.all([outbox.getState("tablet"), outbox.records()]).then(function (loaded) {
      var state = loaded[0] || {};
      var records = loaded[1];
      var siteCode = state.shift ? state.shift.site : $("shift-site").value;
      if (!siteCode) throw new Error(t("panic_no_site"));
      var uuid = outbox.newUuid();
      var now = new Date().toISOString();
      var body = { client_uuid: uuid, site: siteCode, pressed_at: now, silent: silent };
      var scan = state.shift ? lastScan(records, state) : null;
      if (scan) {
        body.last_checkpoint = checkpointId(siteCode, scan.stop);
        body.last_scanned_at = scan.at;
      }
      var entry = {
        uuid: uuid, kind: "panic", kindLabel: t("kind_panic"), label: t("label_panic"),
        url: "/api/v1/panic/", body: body, refs: state.shift ? { shift: state.shift.uuid } : {},
      };
      var record = { uuid: uuid, type: "panic", site: siteCode, at: now, silent: silent };
      return outbox.add([entry], [record]);
    }).then(function () {
      draw();
      outbox.sync();
    }, function (error) {
      if (silent) return;
      var box = $("panic-status");
      box.hidden = false;
      box.className = "panic-status not-sent";
      box.textContent = t("panic_not_saved", { error: error.message });
    });
  }

  // The latest loud press decides what the banner says; silent presses never show.
  function draw() {
    return Promise.all([outbox.records(), outbox.entries()]).then(function (loaded) {
      var waiting = {};
      loaded[1].forEach(function (e) { if (e.kind === "panic") waiting[e.uuid] = true; });
      var presses = loaded[0].filter(function (r) { return r.type === "panic"; });
      var loud = presses.filter(function (r) { return !r.silent; });
      var last = loud[loud.length - 1];
      var box = $("panic-status");
      document.body.dataset.panicWaiting = presses.some(function (r) { return waiting[r.uuid]; }) ? "yes" : "no";
      if (!last) { box.hidden = true; return; }
      box.hidden = false;
      if (waiting[last.uuid]) {
        box.className = "panic-status not-sent";
        box.textContent = t("panic_waiting");
      } else {
        box.className = "panic-status sent";
        box.textContent = t("panic_received");
      }
    });
  }

  // While a press waits, try every few seconds as well as on the browser's "online" event:
  // a network that comes back without that event must not leave it waiting for the outbox's
  // ordinary 30-second round.
  function retryWhileWaiting() {
    if (document.body.dataset.panicWaiting === "yes") outbox.sync();
  }

  function bindHold(button) {
    var timer = null;
    function cancel() { clearTimeout(timer); timer = null; }
    button.addEventListener("pointerdown", function () {
      cancel();
      timer = setTimeout(function () { timer = null; press(true); }, HOLD_MS);
    });
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (name) { button.addEventListener(name, cancel); });
  }

  function start() {
    if (!outbox || !$("panic")) return;
    $("panic-open").addEventListener("click", function () {
      if ($("panic-confirm").hidden) openConfirm();
      else closeConfirm();
    });
    $("panic-send").addEventListener("click", function () { press(false); });
    $("panic-silent").addEventListener("click", function () { press(true); });
    $("panic-cancel").addEventListener("click", closeConfirm);
    if ($("sync-now")) bindHold($("sync-now"));
    outbox.onChange(function () { draw(); });
    setInterval(retryWhileWaiting, RETRY_MS);
    draw();
  }

  window.FacilityLogPanic = { press: press };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
