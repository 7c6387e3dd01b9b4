// Live alarm console: polls the JSON feed and redraws the list, newest first.
// Acknowledging takes two taps: "Acknowledge", then a ready-made note (or type one and Send).
const list = document.getElementById("alarm-list");
const statusLine = document.getElementById("console-status");
const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
const quickNotes = (list.dataset.quickNotes || "").split("|").filter(Boolean);
const POLL_MS = 10000;
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
    ? `Alarm #${alarm.id} acknowledged: ${note}`
    : `Alarm #${alarm.id} not acknowledged: ${data.error || response.status}`;
  openForm = null;
  refresh();
}

function noteChoices(alarm) {
  const box = el("div", { class: "note-choices" });
  for (const note of quickNotes) {
    const button = el("button", { type: "button" }, note);
    button.addEventListener("click", () => acknowledge(alarm, note));
    box.append(button);
  }
  const label = el("label", { for: `note-${alarm.id}` }, "Or write a note");
  const input = el("input", { id: `note-${alarm.id}`, type: "text", autocomplete: "off" });
  const send = el("button", { type: "button" }, "Send");
  send.addEventListener("click", () => input.value.trim() && acknowledge(alarm, input.value.trim()));
  box.append(label, input, send);
  return box;
}

function row(alarm) {
  const item = el("li", { class: `alarm alarm-${alarm.state}`, "data-id": alarm.id });
  const head = el("div", { class: "alarm-head" });
  head.append(el("strong", {}, alarm.type), ` · ${alarm.door_name} `);
  head.append(el("span", { class: "badge" }, `${alarm.site} ${alarm.door}`));
  head.append(el("span", { class: "help" }, ` ${alarm.occurred_at} · ${alarm.state}`));
  if (alarm.note) head.append(el("div", { class: "help" }, `Note: ${alarm.note}`));
  item.append(head);
  const actions = el("div", { class: "actions" });
  if (alarm.can_acknowledge) {
    const ack = el("button", { type: "button" }, "Acknowledge");
    ack.addEventListener("click", () => {
      openForm = openForm === alarm.id ? null : alarm.id;
      draw(lastAlarms);
    });
    actions.append(ack);
  }
  actions.append(el("a", { class: "button secondary", href: alarm.url }, `Open alarm #${alarm.id}`));
  item.append(actions);
  if (openForm === alarm.id) item.append(noteChoices(alarm));
  return item;
}

let lastAlarms = [];
function draw(alarms) {
  lastAlarms = alarms;
  const items = alarms.length ? alarms.map(row) : [el("li", { class: "alarm-empty" }, "No open alarms.")];
  list.replaceChildren(...items);
}

async function refresh() {
  if (openForm !== null && document.activeElement?.id === `note-${openForm}`) return; // typing
  try {
    const response = await fetch(list.dataset.feed, { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.status);
    draw((await response.json()).alarms);
  } catch (error) {
    statusLine.textContent = `Could not refresh (${error.message}); retrying.`;
  }
}

refresh();
setInterval(refresh, POLL_MS);
