// Lone-worker check-ins: while the site's rule is on and the guard's shift is open, the
// tablet asks "I'm OK" one interval after the last check-in (or the shift's start), and the
// answer goes into the outbox like everything else (type `check_in`), so it is kept when the
// network is gone and sent once it is back.
//
// What a check-in carries is its time and the shift: no position, nothing else.
// The tablet asks whenever the rule is on (offline it cannot know whether another guard is on
// duty); the server counts a missed check-in only while the guard is alone at the site.
(function () {
  "use strict";

  var outbox = window.FacilityLogOutbox;
  var bundle = JSON.parse(document.getElementById("tablet-data").textContent);
  var TICK_MS = 15000;

  function $(id) { return document.getElementById(id); }

  function ruleOf(siteCode) {
    var site = bundle.sites.filter(function (s) { return s.code === siteCode; })[0];
    var rule = site && site.lone_worker;
    return rule && rule.enabled ? rule : null;
  }

  function hhmm(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // When the next check-in is due: one interval after the latest of the shift's start, the
  // rule's last change and this shift's last check-in on this tablet.
  function dueAt(state, rule, records) {
    var times = [Date.parse(state.shift.startedAt), Date.parse(rule.changed_at)];
    records.forEach(function (r) {
      if (r.type === "check_in" && r.shift === state.shift.uuid) times.push(Date.parse(r.at));
    });
    var last = Math.max.apply(null, times.filter(function (t) { return !isNaN(t); }));
    return new Date(last + rule.interval_minutes * 60000);
  }

  function draw() {
    var box = $("checkin");
    return Promise.all([outbox.getState("tablet"), outbox.records()]).then(function (loaded) {
      var state = loaded[0] || {};
      var rule = state.shift ? ruleOf(state.shift.site) : null;
      box.hidden = !rule;
      if (!rule) return;
      var due = dueAt(state, rule, loaded[1]);
      var isDue = Date.now() >= due.getTime();
      box.classList.toggle("checkin-due", isDue);
      $("checkin-ok").hidden = !isDue;
      $("checkin-status").textContent = isDue
        ? box.dataset.dueText.replace("%(time)s", hhmm(due))
        : box.dataset.nextText.replace("%(time)s", hhmm(due));
    });
  }

  // text.js loads after this script; by the time the guard taps, it is there.
  function t(key) { return window.FacilityLogTabletText.t(key); }

  function checkIn() {
    return outbox.getState("tablet").then(function (state) {
      if (!state || !state.shift) return null;
      var uuid = outbox.newUuid();
      var now = new Date().toISOString();
      var entry = {
        uuid: uuid, kind: "check_in", kindLabel: t("kind_check_in"), label: t("label_check_in"),
        url: "/api/v1/check-ins/", body: { client_uuid: uuid, checked_in_at: now },
        refs: { shift: state.shift.uuid },
      };
      var record = { uuid: uuid, type: "check_in", shift: state.shift.uuid, at: now };
      return outbox.add([entry], [record]);
    }).then(function () {
      draw();
      outbox.sync();
    });
  }

  function start() {
    if (!outbox || !$("checkin")) return;
    $("checkin-ok").addEventListener("click", checkIn);
    outbox.onChange(function () { draw(); });
    // The tablet takes up a shift open on the server once its page is ready (app.js).
    new MutationObserver(function () { draw(); }).observe($("tablet"), { attributeFilter: ["data-ready"] });
    setInterval(draw, TICK_MS);
    draw();
  }

  window.FacilityLogCheckIn = { checkIn: checkIn, draw: draw };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
