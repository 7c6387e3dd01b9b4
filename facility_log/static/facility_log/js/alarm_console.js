// Live alarm console: polls the JSON feed (with the page's filters) and redraws the list,
// most urgent first, with the counts. Acknowledging takes two taps: "Acknowledge", then a
// ready-made note (or type one and Send); ticked alarms share one note (the form above).
const list = document.getElementById("alarm-list");
const statusLine = document.getElementById("console-status");
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
const quickNotes = (list.dataset.quickNotes || "").split("|").filter(Boolean);
const countsLine = document.getElementById("alarm-counts");
// Every sentence comes translated from the page (views/page_strings.py, "alarm-console-strings").
const STRINGS = JSON.parse(document.getElementById("alarm-console-strings")?.textContent || "{}");
function say(key, values = {}) {
  const text = STRINGS[key] ?? key;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (values[name] !== undefined ? String(values[name]) : whole));
}
const POLL_MS = 4000; // a duress alarm must be on screen within seconds of reaching the server
const ticked = new Set(); // ticked alarms, kept across redraws
let openForm = null; // id of the alarm whose note choices are shown: kept across redraws

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

async function acknowledge(alarm, note) {
  const body = new FormData();
  body.append("note", note);
  const response = await fetch(alarm.acknowledge_url, {
    method: "POST",
    body,
    headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  statusLine.textContent = response.ok
    ? say("acknowledged", { id: alarm.id, note })
    : say("not_acknowledged", { id: alarm.id, error: data.error || response.status });
  openForm = null;
  refresh();
}

async function tickStep(alarm, step) {
  const body = new FormData();
  body.append("step", step.number);
  const response = await fetch(alarm.procedure.tick_url, {
    method: "POST",
    body,
    headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  statusLine.textContent = response.ok
    ? say("step_ticked", { id: alarm.id, step: step.number })
    : say("step_not_ticked", { id: alarm.id, step: step.number, error: data.error || response.status });
  refresh();
}

// The alarm's procedure: each step ticked (who, when) or a button to tick it. Taking a tick
// back (with a reason) is on the alarm's own page.
function procedureList(alarm) {
  const box = el("div", { class: "procedure" });
  box.append(el("strong", {}, say("procedure", { title: alarm.procedure.title })));
  const steps = el("ol", { class: "procedure-steps" });
  for (const step of alarm.procedure.steps) {
    const item = el("li", { class: step.done ? "procedure-step done" : "procedure-step", "data-step": step.number });
    item.append(el("span", { class: "step-text" }, step.text), " ");
    if (step.done) item.append(el("span", { class: "help" }, say("ticked_by", { user: step.by, time: step.at })));
    else if (alarm.procedure.can_tick) {
      const button = el("button", { type: "button", class: "secondary" }, say("tick_step", { step: step.number }));
      button.addEventListener("click", () => tickStep(alarm, step));
      item.append(button);
    }
    steps.append(item);
  }
  box.append(steps);
  return box;
}

function noteChoices(alarm) {
  const box = el("div", { class: "note-choices" });
  for (const note of quickNotes) {
    const button = el("button", { type: "button" }, note);
    button.addEventListener("click", () => acknowledge(alarm, note));
    box.append(button);
  }
  const label = el("label", { for: `note-${alarm.id}` }, say("write_note"));
  const input = el("input", { id: `note-${alarm.id}`, type: "text", autocomplete: "off" });
  const send = el("button", { type: "button" }, say("send"));
  send.addEventListener("click", () => input.value.trim() && acknowledge(alarm, input.value.trim()));
  // Enter sends this alarm's note, not the form of ticked alarms around the list.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      send.click();
    }
  });
  box.append(label, input, send);
  return box;
}

function tickBox(alarm) {
  const box = el("input", { type: "checkbox", name: "alarm", value: alarm.id, id: `tick-${alarm.id}`, class: "tick" });
  box.checked = ticked.has(alarm.id);
  box.addEventListener("change", () => (box.checked ? ticked.add(alarm.id) : ticked.delete(alarm.id)));
  return [box, el("label", { for: `tick-${alarm.id}`, class: "visually-hidden" }, say("tick_alarm", { id: alarm.id }))];
}

function row(alarm) {
  const item = el("li", {
    class: `alarm alarm-${alarm.state} ${alarm.priority_class}`, "data-id": alarm.id, "data-priority": alarm.priority,
  });
  const head = el("div", { class: "alarm-head" });
  if (alarm.can_acknowledge) head.append(...tickBox(alarm), " ");
  head.append(el("span", { class: `badge priority ${alarm.priority_class}` }, alarm.priority_label), " ");
  head.append(el("strong", {}, alarm.type), ` · ${alarm.door_name} `);
  head.append(el("span", { class: "badge" }, `${alarm.site} ${alarm.door}`.trim()));
  head.append(el("span", { class: "help" }, ` ${alarm.occurred_at} · ${alarm.state_label}`));
  if (alarm.panic) {
    const scanned = alarm.panic.last_scanned_at ? ` · ${say("last_scan", { time: alarm.panic.last_scanned_at })}` : "";
    head.append(el("div", { class: "help" }, `${say("guard", { guard: alarm.panic.guard })}${scanned}`));
  }
  if (alarm.note) head.append(el("div", { class: "help" }, say("note", { note: alarm.note })));
  item.append(head);
  if (alarm.procedure) item.append(procedureList(alarm));
  const actions = el("div", { class: "actions" });
  if (alarm.can_acknowledge) {
    const ack = el("button", { type: "button" }, say("acknowledge"));
    ack.addEventListener("click", () => {
      openForm = openForm === alarm.id ? null : alarm.id;
      draw(lastAlarms);
    });
    actions.append(ack);
  }
  actions.append(el("a", { class: "button secondary", href: alarm.url }, say("open_alarm", { id: alarm.id })));
  item.append(actions);
  if (openForm === alarm.id) item.append(noteChoices(alarm));
  return item;
}

function drawCounts(counts) {
  if (!counts || !countsLine) return;
  const parts = [el("strong", {}, say("count_open", { count: counts.total })),
    ` · ${say("count_new", { count: counts.new })} · ${say("count_acknowledged", { count: counts.acknowledged })}`,
  ];
  for (const p of counts.priorities) parts.push(" · ", el("span", { class: `badge priority ${p.class}` }, `${p.label}: ${p.n}`));
  countsLine.replaceChildren(...parts);
}

let lastAlarms = [];
function draw(alarms) {
  lastAlarms = alarms;
  const items = alarms.length ? alarms.map(row) : [el("li", { class: "alarm-empty" }, say("no_alarms"))];
  list.replaceChildren(...items);
}

async function refresh() {
  if (openForm !== null && document.activeElement?.id === `note-${openForm}`) return; // typing
  try {
    const response = await fetch(list.dataset.feed, { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.status);
    const data = await response.json();
    const open = new Set(data.alarms.filter((a) => a.can_acknowledge).map((a) => a.id));
    for (const id of [...ticked]) if (!open.has(id)) ticked.delete(id);
    drawCounts(data.counts);
    draw(data.alarms);
  } catch (error) {
    statusLine.textContent = say("could_not_refresh", { error: error.message });
  }
}

// Ticks made before the script ran (server-drawn list) are kept.
for (const box of list.querySelectorAll("input.tick:checked")) ticked.add(Number(box.value));
refresh();
setInterval(refresh, POLL_MS);
