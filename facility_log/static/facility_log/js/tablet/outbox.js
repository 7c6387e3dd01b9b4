// facility_log outbox: what a guard enters is written to IndexedDB before the screen says
// "saved", then sent to the API in the order it was made. An entry leaves the outbox only
// when the server has confirmed it with its id; a refusal stays, shown with what to do.
//
// Loaded on every signed-in page, so the unsynced count and the sign-out guard work
// everywhere and any page that opens sends what is waiting.
//
// Entry: {seq, uuid, user, kind, label, url, body | form + file, refs, stampSentAt,
//         createdAt, problem}
//   url may hold {name} placeholders and refs maps name -> the client UUID of an earlier
//   record; the server id learnt when that record was confirmed fills the placeholder (or,
//   when the url has none, the body field of that name).
(function () {
  "use strict";

  // The sentence in the page's language where the page hands the tablet's translated strings
  // (views/tablet_strings.py, the same English); desk pages hand none and show the English.
  function say(key, english, values) {
    var text = window.FacilityLogTabletText;
    var said = text ? text.t(key, values) : key;
    if (said !== key) return said;
    return english.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }

  var DB_NAME = "facility_log";
  var DB_VERSION = 1;
  var LOCK_NAME = "facility_log-outbox";
  var SYNC_EVERY_MS = 30000;
  var REQUEST_TIMEOUT_MS = 30000;
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("facility_log-outbox") : null;
  var listeners = [];
  var dbPromise = null;
  var localBusy = false;
  var again = false;
  var lastStatus = { state: "idle", sent: 0 };

  // ---- IndexedDB -------------------------------------------------------------------------

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        var outbox = db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("uuid", "uuid", { unique: true });
        db.createObjectStore("ids", { keyPath: "uuid" });
        db.createObjectStore("records", { keyPath: "uuid" });
        db.createObjectStore("state", { keyPath: "key" });
      };
      request.onsuccess = function () {
        var db = request.result;
        // A newer version of this page wants to change the database: let it.
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      request.onerror = function () { dbPromise = null; reject(request.error); };
      request.onblocked = function () {
        dbPromise = null;
        reject(new Error(say("db_busy", "The tablet database is busy in another tab; close the other tabs.")));
      };
    });
    return dbPromise;
  }

  // Run `work(stores)` in one transaction; resolves only when the transaction has committed,
  // so "saved" is said after the data is on disk, not before.
  function transact(storeNames, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeNames, mode, { durability: "strict" });
        var stores = {};
        storeNames.forEach(function (name) { stores[name] = tx.objectStore(name); });
        var result;
        try {
          result = work(stores);
        } catch (error) {
          tx.abort();
          reject(error);
          return;
        }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error(say("not_saved_reason", "Not saved."))); };
      });
    });
  }

  function requestValue(request) {
    var holder = { value: undefined };
    request.onsuccess = function () { holder.value = request.result; };
    return holder;
  }

  function getAll(storeName) {
    var holder;
    return transact([storeName], "readonly", function (stores) {
      holder = requestValue(stores[storeName].getAll());
    }).then(function () { return holder.value || []; });
  }

  function getOne(storeName, key) {
    var holder;
    return transact([storeName], "readonly", function (stores) {
      holder = requestValue(stores[storeName].get(key));
    }).then(function () { return holder.value; });
  }

  function put(storeName, value) {
    return transact([storeName], "readwrite", function (stores) {
      stores[storeName].put(value);
    }).then(function () { changed(); });
  }

  // ---- public: writing ------------------------------------------------------------------

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function currentUser() {
    return document.body ? document.body.dataset.user || "" : "";
  }

  // Store entries, the records the screens show and (optionally) the screens' state in one
  // transaction: all of it is on disk, or none of it.
  function add(entries, records, screenState) {
    var now = new Date().toISOString();
    return transact(["outbox", "records", "state"], "readwrite", function (stores) {
      if (screenState !== undefined) {
        stores.state.put({ key: currentUser() + ":tablet", value: screenState });
      }
      (entries || []).forEach(function (entry) {
        entry.user = entry.user || currentUser();
        entry.createdAt = entry.createdAt || now;
        entry.problem = null;
        stores.outbox.add(entry);
      });
      (records || []).forEach(function (record) {
        record.user = record.user || currentUser();
        stores.records.put(record);
      });
    }).then(function () {
      changed();
      scheduleSoon();
    });
  }

  // Put entries back exactly as they were (the same client UUIDs): a replay, as a tablet
  // restored from a backup would do. The server must answer with what it already has.
  function restore(entries) {
    return transact(["outbox"], "readwrite", function (stores) {
      entries.forEach(function (entry) {
        var copy = Object.assign({}, entry, { problem: null });
        stores.outbox.put(copy);
      });
    }).then(changed);
  }

  // ---- public: reading ------------------------------------------------------------------

  function entries() {
    return getAll("outbox").then(function (rows) {
      return rows.sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  // What this tablet still has to send for the signed-in guard. Another account's entries
  // (its session ended before they were sent) wait for that account and are counted apart.
  function mine() {
    var user = currentUser();
    return entries().then(function (rows) { return rows.filter(function (row) { return row.user === user; }); });
  }

  function count() {
    return mine().then(function (rows) { return rows.length; });
  }

  function othersWaiting() {
    var user = currentUser();
    return entries().then(function (rows) {
      var others = {};
      rows.forEach(function (row) { if (row.user !== user) others[row.user] = (others[row.user] || 0) + 1; });
      return others;
    });
  }

  function records() {
    return getAll("records").then(function (rows) {
      var user = currentUser();
      return rows.filter(function (row) { return row.user === user; })
        .sort(function (a, b) { return (a.at || "").localeCompare(b.at || ""); });
    });
  }

  function getState(key) {
    return getOne("state", currentUser() + ":" + key).then(function (row) { return row ? row.value : null; });
  }

  function setState(key, value) {
    return put("state", { key: currentUser() + ":" + key, value: value });
  }

  function rememberId(uuid, id) {
    return put("ids", { uuid: uuid, id: id });
  }

  function idFor(uuid) {
    return getOne("ids", uuid).then(function (row) { return row ? row.id : null; });
  }

  // ---- sending --------------------------------------------------------------------------

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function resolveRefs(entry) {
    var names = Object.keys(entry.refs || {});
    return Promise.all(names.map(function (name) { return idFor(entry.refs[name]); }))
      .then(function (ids) {
        var resolved = {};
        var missing = [];
        names.forEach(function (name, i) {
          if (ids[i] === null || ids[i] === undefined) missing.push(name);
          else resolved[name] = ids[i];
        });
        return { ids: resolved, missing: missing };
      });
  }

  function buildRequest(entry, ids) {
    var url = entry.url;
    var bodyRefs = {};
    Object.keys(ids).forEach(function (name) {
      var placeholder = "{" + name + "}";
      if (url.indexOf(placeholder) >= 0) url = url.split(placeholder).join(String(ids[name]));
      else bodyRefs[name] = ids[name];
    });
    // The server refuses a record made by another account than the one signed in.
    var headers = { "X-CSRFToken": csrfToken(), Accept: "application/json", "X-Facility-Log-User": entry.user };
    var body;
    if (entry.file) {
      body = new FormData();
      Object.keys(entry.form || {}).forEach(function (key) { body.append(key, entry.form[key]); });
      body.append(entry.file.field || "file", entry.file.blob, entry.file.name);
    } else {
      var data = Object.assign({}, entry.body, bodyRefs);
      if (entry.stampSentAt) data[entry.stampSentAt] = new Date().toISOString();
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(data);
    }
    var init = { method: "POST", headers: headers, body: body, credentials: "same-origin", redirect: "manual" };
    // A request that hangs (a half-open connection, a captive portal) must not hold the lock.
    if (window.AbortSignal && AbortSignal.timeout) init.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    return { url: url, init: init };
  }

  function flattenErrors(data) {
    if (!data || typeof data !== "object") return "";
    if (typeof data.detail === "string") return data.detail;
    return Object.keys(data).map(function (field) {
      var value = data[field];
      var text = Array.isArray(value) ? value.join(" ") : (typeof value === "object" ? JSON.stringify(value) : String(value));
      return field + ": " + text;
    }).join("; ");
  }

  var ADVICE = {
    400: ["advice_400", "The server refused a field of this record. Show this to your supervisor; the record stays on this tablet."],
    404: ["advice_404", "The server does not know the site, route or record this refers to, or you are no longer a member there. Show this to your supervisor; the record stays on this tablet."],
    409: ["advice_409", "This clashes with what the server already has (a shift already open or already ended, a round already finished). Show this to your supervisor; the record stays on this tablet."],
    422: ["advice_422", "The server already has a record with this tablet's id but different content. Do not enter it again; show this to your supervisor. The record stays on this tablet."],
  };
  var ADVICE_OTHER = ["advice_refused", "The server refused this record. Show this to your supervisor; the record stays on this tablet."];

  function problemFor(status, data) {
    var advice = ADVICE[status] || ADVICE_OTHER;
    return {
      status: status,
      message: flattenErrors(data) || say("server_answered", "The server answered %(status)s.", { status: status }),
      advice: say(advice[0], advice[1]),
      at: new Date().toISOString(),
    };
  }

  function isAuthFailure(status, data) {
    if (status === 401 || status === 0) return true; // 0: an opaque redirect to the login page
    if (status !== 403) return false;
    var detail = (data && data.detail) || "";
    return /credentials|CSRF|authenticat|signed in as/i.test(detail);
  }

  function sendOne(entry, ids) {
    var request = buildRequest(entry, ids);
    return fetch(request.url, request.init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        var status = response.type === "opaqueredirect" ? 0 : response.status;
        if (status >= 200 && status < 300 && data && data.id !== undefined) return { kind: "done", id: data.id };
        if (isAuthFailure(status, data)) return { kind: "stop", state: "signed-out" };
        if (status >= 500 || status === 429 || (status >= 200 && status < 300)) return { kind: "stop", state: "server-error" };
        return { kind: "problem", problem: problemFor(status, data) };
      });
    }, function () {
      return { kind: "stop", state: "offline" };
    });
  }

  // The server already has this guard's shift open at the site (started on another device,
  // or before this tablet was reset): this tablet's shift is that one, and what was logged
  // in it here goes into it.
  function adoptOpenShift(entry) {
    var query = "?open=true&site__code=" + encodeURIComponent(entry.body.site) +
      "&guard__username=" + encodeURIComponent(entry.user);
    return fetch("/api/v1/shifts/" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        var rows = data ? (data.results || data) : [];
        return rows.length === 1 ? rows[0].id : null;
      }, function () { return null; });
  }

  // The entry leaves the outbox, its server id is kept, and the screens' record is marked
  // sent: all in the caller's transaction.
  function confirmIn(stores, entry, id) {
    stores.outbox.delete(entry.seq);
    stores.ids.put({ uuid: entry.uuid, id: id });
    var holder = stores.records.get(entry.recordUuid || entry.uuid);
    holder.onsuccess = function () {
      var record = holder.result;
      if (!record) return;
      record.synced = (record.synced || 0) + 1;
      if (entry.uuid === record.uuid) record.serverId = id;
      stores.records.put(record);
    };
  }

  function confirmEntry(entry, id) {
    return transact(["outbox", "ids", "records"], "readwrite", function (stores) {
      confirmIn(stores, entry, id);
    });
  }

  function markProblem(entry, problem) {
    entry.problem = problem;
    return transact(["outbox"], "readwrite", function (stores) { stores.outbox.put(entry); });
  }

  function nextEntry(afterSeq) {
    var holder = { value: null };
    return transact(["outbox"], "readonly", function (stores) {
      var request = stores.outbox.openCursor(IDBKeyRange.lowerBound(afterSeq, true));
      request.onsuccess = function () {
        if (request.result) holder.value = request.result.value;
      };
    }).then(function () { return holder.value; });
  }

  function waitingProblem(names) {
    return {
      status: "waiting",
      message: say("waiting_for", "Waiting for the record it belongs to (%(names)s) to reach the server.", { names: names.join(", ") }),
      advice: say("waiting_advice", "It is sent as soon as that one is accepted."),
    };
  }

  // ---- sending in batches ---------------------------------------------------------------
  // Panic presses (first of all, see `pass`), round starts, scans, round finishes, log
  // entries, submissions, procedure ticks and visitor sign-ins/outs go to /api/v1/sync/ up to BATCH_MAX
  // at a time, in the outbox's order, and the server answers each one as its own endpoint
  // would (201, 200, 4xx with its words) or 424 when what it belongs to is not on the
  // server (yet): that one waits, as an entry with a missing reference does. A reference
  // to a record whose server id is not known yet is sent as its client UUID (`run_uuid`,
  // `shift_uuid`): the server finds it, also when it is earlier in the same batch.
  var BATCH_KINDS = {
    panic: true, check_in: true, run: true, scan: true, "run-finish": true, "shift-entry": true,
    "incident-submit": true, "procedure-tick": true, "visitor-in": true, "visitor-out": true,
    "found-item": true,
  };
  var BATCH_MAX = 100;
  var SYNC_URL = "/api/v1/sync/";

  function entriesFrom(seq) {
    var holder;
    return transact(["outbox"], "readonly", function (stores) {
      holder = requestValue(stores.outbox.getAll(IDBKeyRange.lowerBound(seq)));
    }).then(function () { return holder.value || []; });
  }

  function knownIds() {
    return getAll("ids").then(function (rows) {
      var ids = {};
      rows.forEach(function (row) { ids[row.uuid] = row.id; });
      return ids;
    });
  }

  // `first` and what follows it up to the first entry that cannot go in a batch (that one
  // waits for the batch's answer, keeping the order). Another account's entries and, unless
  // the guard asked to retry, refused ones are passed over, as a pass does.
  function gatherBatch(first, user, retryRefused) {
    return entriesFrom(first.seq).then(function (rows) {
      var batch = [];
      for (var i = 0; i < rows.length && batch.length < BATCH_MAX; i++) {
        var row = rows[i];
        if (row.user !== user || (isRefused(row) && !retryRefused)) continue;
        if (!BATCH_KINDS[row.kind]) break;
        batch.push(row);
      }
      return batch;
    });
  }

  function batchRecord(entry, ids) {
    var record = Object.assign({ type: entry.kind }, entry.body);
    Object.keys(entry.refs || {}).forEach(function (name) {
      var known = ids[entry.refs[name]];
      if (known !== undefined && known !== null) record[name] = known;
      else record[name + "_uuid"] = entry.refs[name];
    });
    if (entry.stampSentAt) record[entry.stampSentAt] = new Date().toISOString();
    return record;
  }

  function sendBatch(batch, ids) {
    var body = JSON.stringify({ records: batch.map(function (entry) { return batchRecord(entry, ids); }) });
    var headers = {
      "X-CSRFToken": csrfToken(), Accept: "application/json", "Content-Type": "application/json",
      "X-Facility-Log-User": batch[0].user,
    };
    var init = { method: "POST", headers: headers, body: body, credentials: "same-origin", redirect: "manual" };
    if (window.AbortSignal && AbortSignal.timeout) init.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    return fetch(SYNC_URL, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        var status = response.type === "opaqueredirect" ? 0 : response.status;
        var results = data && data.results;
        if (status === 200 && Array.isArray(results) && results.length === batch.length) {
          return { kind: "results", results: results };
        }
        if (isAuthFailure(status, data)) return { kind: "stop", state: "signed-out" };
        if (status >= 500 || status === 429 || (status >= 200 && status < 300)) return { kind: "stop", state: "server-error" };
        return { kind: "unsupported" };
      });
    }, function () {
      return { kind: "stop", state: "offline" };
    });
  }

  // Every answer of a batch is stored in one transaction; resolves to the number confirmed.
  function applyResults(batch, results) {
    var confirmed = 0;
    return transact(["outbox", "ids", "records"], "readwrite", function (stores) {
      results.forEach(function (result, i) {
        var entry = batch[i];
        var ok = result.status >= 200 && result.status < 300 && result.id !== null && result.id !== undefined;
        if (ok) {
          confirmIn(stores, entry, result.id);
          confirmed += 1;
          return;
        }
        entry.problem = result.status === 424
          ? waitingProblem(Object.keys(result.errors || {}))
          : problemFor(result.status, result.errors);
        stores.outbox.put(entry);
      });
    }).then(function () { return confirmed; });
  }

  // One pass over the outbox, oldest first. Stops at the first network, session or server
  // failure (everything after it would fail the same way); a refused record is marked and
  // the pass goes on with the rest.
  function isRefused(entry) {
    return Boolean(entry.problem && typeof entry.problem.status === "number");
  }

  function pass(retryRefused) {
    var user = currentUser();
    var sent = 0;
    var useBatches = true;
    function step(afterSeq) {
      return nextEntry(afterSeq).then(function (entry) {
        if (!entry) return { state: "ok", sent: sent };
        if (entry.user !== user) return step(entry.seq); // sent when its author signs in
        // A refusal is not sent again on its own: only when the guard asks ("Try again").
        if (isRefused(entry) && !retryRefused) return step(entry.seq);
        if (useBatches && BATCH_KINDS[entry.kind]) return batchFrom(entry);
        return resolveRefs(entry).then(function (refs) {
          if (refs.missing.length) {
            return markProblem(entry, waitingProblem(refs.missing))
              .then(function () { return step(entry.seq); });
          }
          return sendOne(entry, refs.ids).then(function (outcome) {
            if (outcome.kind === "done") {
              sent += 1;
              return confirmEntry(entry, outcome.id).then(function () { changed(); return step(entry.seq); });
            }
            if (outcome.kind === "problem" && entry.kind === "shift" && outcome.problem.status === 409) {
              return adoptOpenShift(entry).then(function (id) {
                if (id === null) return markProblem(entry, outcome.problem);
                sent += 1;
                return confirmEntry(entry, id);
              }).then(function () { changed(); return step(entry.seq); });
            }
            if (outcome.kind === "problem") {
              return markProblem(entry, outcome.problem).then(function () { changed(); return step(entry.seq); });
            }
            return { state: outcome.state, sent: sent };
          });
        });
      });
    }
    // `first` and the entries after it that can go with it, in one request; the pass goes on
    // after the last of them. A server without the batch endpoint (or refusing the batch as
    // a whole) gets them one request each, as before.
    function batchFrom(first) {
      return gatherBatch(first, user, retryRefused).then(function (batch) {
        return knownIds().then(function (ids) { return sendBatch(batch, ids); })
          .then(function (outcome) {
            if (outcome.kind === "results") {
              return applyResults(batch, outcome.results).then(function (confirmed) {
                sent += confirmed;
                changed();
                return step(batch[batch.length - 1].seq);
              });
            }
            if (outcome.kind === "unsupported") {
              useBatches = false;
              return step(first.seq - 1);
            }
            return { state: outcome.state, sent: sent };
          });
      });
    }
    // Panic presses go first, whatever waits before them (a night of scans must not hold a
    // duress alarm back): one batch of them, then the outbox in its order.
    function panicsFirst() {
      return entries().then(function (rows) {
        var panics = rows.filter(function (row) {
          return row.kind === "panic" && row.user === user && (retryRefused || !isRefused(row));
        });
        if (!panics.length) return null;
        return knownIds().then(function (ids) { return sendBatch(panics, ids); }).then(function (outcome) {
          if (outcome.kind === "results") {
            return applyResults(panics, outcome.results).then(function (confirmed) {
              sent += confirmed;
              changed();
              return null;
            });
          }
          if (outcome.kind === "unsupported") return null; // sent one by one below
          return { state: outcome.state, sent: sent };
        });
      });
    }
    return panicsFirst().then(function (stopped) { return stopped || step(0); });
  }

  // Send what is waiting. One tab sends at a time (Web Locks); a tab that finds the lock
  // taken leaves it to the other, whose pass picks up its entries too.
  function sync(options) {
    var retryRefused = Boolean(options && options.retryRefused);
    // No network as far as the browser knows: nothing is tried (the "online" event starts a
    // pass). A request tried anyway can get through where the browser's own offline switch
    // does not reach (a service worker's fetch), which made "offline" tests drain the outbox.
    if (navigator.onLine === false) {
      lastStatus = { state: "offline", sent: 0 };
      changed();
      return Promise.resolve(lastStatus);
    }
    if (localBusy) {
      // Asked while a pass runs (a panic press during a long send): one more pass after it.
      again = true;
      return Promise.resolve({ state: "busy", sent: 0 });
    }
    localBusy = true;
    var run = function (lock) {
      if (lock === null) return { state: "busy", sent: 0 };
      return pass(retryRefused);
    };
    var work = navigator.locks
      ? navigator.locks.request(LOCK_NAME, { ifAvailable: true }, run)
      : pass(retryRefused);
    return Promise.resolve(work).then(function (status) {
      localBusy = false;
      if (again) { again = false; scheduleSoon(); }
      if (status.state !== "busy") lastStatus = status;
      changed();
      return status;
    }, function (error) {
      localBusy = false;
      lastStatus = { state: "error", sent: 0, message: String(error) };
      changed();
      return lastStatus;
    });
  }

  var soonTimer = null;
  function scheduleSoon() {
    clearTimeout(soonTimer);
    soonTimer = setTimeout(function () { sync(); }, 50);
  }

  // ---- notifications -------------------------------------------------------------------

  function changed() {
    notifyLocal();
    if (channel) channel.postMessage("changed");
  }

  // Counts started one after another may resolve out of order on a busy tablet: only the
  // newest is shown, so an old "Unsynced: 1" never overwrites the "0" that came after it.
  var notifySeq = 0;

  function notifyLocal() {
    var mine = ++notifySeq;
    count().then(function (n) {
      if (mine !== notifySeq) return;
      listeners.forEach(function (listener) { listener(n, lastStatus); });
    });
  }

  function onChange(listener) {
    listeners.push(listener);
    count().then(function (n) { listener(n, lastStatus); });
  }

  if (channel) channel.onmessage = notifyLocal;

  // The guard keeps a refused record as a note in the shift log instead: the note (with what
  // was entered and what the server said) replaces the refused entry in one transaction, so
  // the information reaches the server and nothing is silently dropped.
  function replaceWithNote(seq, note) {
    return transact(["outbox"], "readwrite", function (stores) {
      note.user = currentUser();
      note.createdAt = new Date().toISOString();
      note.problem = null;
      stores.outbox.delete(seq);
      stores.outbox.add(note);
    }).then(function () { changed(); scheduleSoon(); });
  }

  // Forget this guard's local data when they sign out (only ever with their outbox empty).
  // Another account's waiting records keep what they need: their own screens' records and
  // the server ids their references resolve to (ids name no content).
  function forget() {
    var user = currentUser();
    var work = transact(["records", "state"], "readwrite", function (stores) {
      stores.state.delete(user + ":tablet");
      var cursor = stores.records.openCursor();
      cursor.onsuccess = function () {
        var row = cursor.result;
        if (!row) return;
        if (row.value.user === user) row.delete();
        row.continue();
      };
    });
    // Only the page (it holds this guard's site data); the scripts stay so the next guard's
    // tablet still opens with no network.
    var page = document.body.dataset.tabletUrl || "/tablet/";
    var caches_ = window.caches
      ? caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf("facility_log-tablet-") === 0; })
          .map(function (n) { return caches.open(n).then(function (cache) { return cache.delete(page); }); }));
      })
      : Promise.resolve();
    return Promise.all([work, caches_]);
  }

  function describe(rows) {
    var kinds = {};
    rows.forEach(function (row) { kinds[row.kindLabel || row.kind] = (kinds[row.kindLabel || row.kind] || 0) + 1; });
    return Object.keys(kinds).map(function (k) { return kinds[k] + " × " + k; }).join(", ");
  }

  // ---- sign-out guard and header count --------------------------------------------------

  function refuseSignOut(form, rows) {
    var box = document.getElementById("signout-refused");
    if (!box) {
      box = document.createElement("div");
      box.id = "signout-refused";
      box.className = "warning signout-refused";
      box.setAttribute("role", "alert");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    // Translated on the server (views/page_strings.py, "page-strings" in base.html), one form
    // for one item and one for several (English and German share that plural rule).
    var element = document.getElementById("page-strings");
    var strings = element ? JSON.parse(element.textContent) : {};
    var key = rows.length === 1 ? "sign_out_refused_one" : "sign_out_refused_other";
    box.textContent = (strings[key] || key)
      .replace("%(count)s", String(rows.length)).replace("%(kinds)s", describe(rows));
    box.scrollIntoView({ block: "center" });
  }

  function guardSignOut() {
    document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.cleared === "yes") return;
        event.preventDefault();
        mine().then(function (rows) {
          if (rows.length) {
            refuseSignOut(form, rows);
            return;
          }
          if (navigator.serviceWorker && navigator.serviceWorker.controller) {
            navigator.serviceWorker.controller.postMessage("forget");
          }
          forget().catch(function () { /* nothing stored on this device */ }).then(function () {
            form.dataset.cleared = "yes";
            form.submit();
          });
        }, function () {
          form.dataset.cleared = "yes";
          form.submit();
        });
      });
    });
  }

  function showHeaderCount() {
    var who = document.querySelector("header.top .who");
    if (!who) return;
    var badge = document.createElement("a");
    badge.className = "badge unsynced-badge";
    badge.href = document.body.dataset.tabletUrl || "/tablet/";
    badge.hidden = true;
    who.parentNode.insertBefore(badge, who);
    onChange(function (n) {
      badge.hidden = n === 0;
      badge.textContent = n + " unsynced";
      badge.setAttribute("aria-label", n + " items not yet sent to the server; open the tablet page");
    });
  }

  function start() {
    if (!currentUser() || !window.indexedDB) return;
    guardSignOut();
    showHeaderCount();
    sync();
    window.addEventListener("online", function () { sync(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") sync();
    });
    setInterval(function () { sync(); }, SYNC_EVERY_MS);
  }

  window.FacilityLogOutbox = {
    add: add,
    restore: restore,
    entries: entries,
    count: count,
    othersWaiting: othersWaiting,
    replaceWithNote: replaceWithNote,
    records: records,
    getState: getState,
    setState: setState,
    rememberId: rememberId,
    idFor: idFor,
    sync: sync,
    onChange: onChange,
    newUuid: newUuid,
    currentUser: currentUser,
    lastStatus: function () { return lastStatus; },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
