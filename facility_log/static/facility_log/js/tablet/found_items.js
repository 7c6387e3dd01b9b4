// Found items on the guard tablet (docs/lost-and-found.md): an item found during the shift is
// recorded at the shift's site through the outbox (type `found-item`, no photo), so it is
// recorded where the guard is even without a network, and the tablet lists what it recorded
// today (its own records only: it never downloads the site's items). Every word comes from
// the page (the include's template and views/tablet_strings.py).
(function () {
  "use strict";

  var outbox = window.FacilityLogOutbox;
  var text = null;  // text.js loads after this include's script
  function t(key, values) { return text.t(key, values); }
  var STATE_KEY = "found-items";

  function $(id) { return document.getElementById(id); }

  function addTabButton() {
    var nav = document.querySelector(".tablet-tabs");
    var template = $("found-tab-button");
    if (!nav || !template) return;
    var button = template.content.firstElementChild.cloneNode(true);
    nav.insertBefore(button, nav.querySelector('[data-tab="end"]'));
  }

  function today() { return new Date().toISOString().slice(0, 10); }

  // What this tablet recorded today; another day's list is dropped when read.
  function loadList() {
    return outbox.getState(STATE_KEY).then(function (list) {
      if (list && list.day === today()) return list;
      var fresh = { day: today(), items: [] };
      return outbox.setState(STATE_KEY, fresh).then(function () { return fresh; });
    });
  }

  var drawing = 0;

  function draw() {
    if (!$("tab-found")) return Promise.resolve();
    var mine = ++drawing;
    return Promise.all([loadList(), outbox.entries(), outbox.getState("tablet")]).then(function (loaded) {
      if (mine !== drawing) return;
      var pending = {};
      loaded[1].forEach(function (e) { pending[e.uuid] = true; });
      var tablet = loaded[2];
      $("found-form").hidden = !(tablet && tablet.shift);
      var list = $("found-list");
      list.textContent = "";
      loaded[0].items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "found-row";
        li.appendChild(document.createTextNode(
          t("found_row", { description: item.description, place: item.storage_location }) + " "));
        var badge = document.createElement("span");
        badge.className = "badge " + (pending[item.uuid] ? "pending" : "sent");
        badge.textContent = pending[item.uuid] ? t("waiting_to_send") : t("sent");
        li.appendChild(badge);
        list.appendChild(li);
      });
      if (!loaded[0].items.length) {
        var empty = document.createElement("li");
        empty.textContent = t("found_empty");
        list.appendChild(empty);
      }
    });
  }

  function say(words, failed) {
    var box = $("saved-message");
    box.classList.toggle("not-saved", Boolean(failed));
    box.textContent = words;
  }

  function field(id) { return $(id).value.trim(); }

  function record(event) {
    event.preventDefault();
    var error = $("found-error");
    var body = {
      description: field("found-description"), found_by: field("found-by"),
      storage_location: field("found-storage"),
    };
    var complete = Boolean(body.description && body.found_by && body.storage_location);
    error.hidden = complete;
    error.textContent = complete ? "" : t("found_required");
    if (!complete) return null;
    return outbox.getState("tablet").then(function (tablet) {
      if (!tablet || !tablet.shift) return null;
      var uuid = outbox.newUuid();
      body.client_uuid = uuid;
      body.site = tablet.shift.site;
      body.found_at = new Date().toISOString();
      var entry = {
        uuid: uuid, kind: "found-item", kindLabel: t("kind_found_item"),
        label: t("label_found_item", { description: body.description }),
        url: "/api/v1/sync/", body: body,
      };
      return outbox.add([entry], []).then(function () {
        return loadList().then(function (list) {
          list.items.push({ uuid: uuid, description: body.description, storage_location: body.storage_location });
          return outbox.setState(STATE_KEY, list);
        });
      }).then(function () {
        say(t("found_saved"));
        $("found-form").reset();
        outbox.sync();
        return draw();
      }, function (failure) {
        say(t("not_saved", { error: failure && failure.message ? failure.message : String(failure) }), true);
      });
    });
  }

  function start() {
    text = window.FacilityLogTabletText;
    if (!outbox || !text || !$("tab-found")) return;
    $("found-form").addEventListener("submit", record);
    outbox.onChange(function () { draw(); });
    new MutationObserver(function () { if (!$("tab-found").hidden) draw(); })
      .observe($("tab-found"), { attributeFilter: ["hidden"] });
    new MutationObserver(function () { draw(); }).observe($("tablet"), { attributeFilter: ["data-ready"] });
    draw();
  }

  addTabButton();
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
