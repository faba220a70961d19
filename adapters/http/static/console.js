// Rexian console: every page is filled from its JSON API; text is inserted as text (never
// as HTML), so order content cannot script the page. Charts: ECharts from node_modules.
"use strict";
const page = document.body.dataset.page;
const main = document.getElementById("main");
const csrf = document.querySelector('meta[name="csrf"]').content;
const charts = {};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, command) {
  // command: a JSON body to POST (a console command: 派单, 并单), with the session's CSRF value.
  const init = { credentials: "same-origin", headers: { accept: "application/json" } };
  if (command) Object.assign(init, { method: "POST", body: JSON.stringify(command),
    headers: { ...init.headers, "content-type": "application/json", "x-csrf-token": csrf } });
  const response = await fetch(path, init);
  if (response.status === 401) { location.href = "/login"; throw new Error("401"); }
  const body = await response.json();
  if (!response.ok) { const e = new Error(body.zh || body.error); e.status = response.status; e.body = body; throw e; }
  return body;
}

function panel(title, id, ...content) {
  return el("section", { class: "panel", id }, el("h2", {}, title), ...content);
}

function fail(where, error) {
  where.replaceChildren(el("p", { class: "error" }, `${error.status || ""} ${error.message}`));
}

function table(columns, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, columns.map(([, label]) => el("th", {}, label)))),
    el("tbody", {}, rows.map(row => el("tr", {}, columns.map(([key, , render]) => {
      const value = render ? render(row) : row[key];
      const cls = key === "department" ? "unit" : (key === "sla_state" ? String(value || "") : "");
      return el("td", { class: cls, title: typeof value === "string" ? value : "" }, value ?? "");
    })))));
}

const orderLink = row => el("a", { href: `/orders/${encodeURIComponent(row.ticket_no)}` }, row.ticket_no);
const shortTime = t => t ? t.slice(0, 16).replace("T", " ") : "";

function bar(id, title, data) {
  // data: {label: number}; the chart's option is what tests compare with the API.
  const node = el("div", { class: "chart", id });
  const holder = panel(title, `${id}-panel`, node);
  requestAnimationFrame(() => {
    const chart = charts[id] || echarts.init(node);
    charts[id] = chart;
    chart.setOption({
      animation: false, tooltip: {}, grid: { left: 40, right: 10, top: 10, bottom: 60 },
      xAxis: { type: "category", data: Object.keys(data), axisLabel: { interval: 0, rotate: 30, width: 80, overflow: "truncate" } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: Object.values(data), label: { show: true, position: "top" } }],
    });
  });
  return holder;
}

// ----- pages --------------------------------------------------------------------------
async function overview() {
  const data = await api("/api/dashboard");
  Object.values(charts).forEach(c => c.dispose()); for (const k in charts) delete charts[k];
  const orderCols = [["ticket_no", "工单", orderLink], ["category", "类别"], ["department", "承办单位"],
    ["due_at", "办结时限", r => shortTime(r.due_at)], ["sla_state", "状态"]];
  const parts = [
    bar("chart-open-state", "在办工单（按状态）", data.open_by_state),
    bar("chart-ladder", "催督办（提醒 / 催办 / 督办 / 通报）", data.ladder),
    bar("chart-callback-queue", "回访队列", data.callback_queue),
    panel("临期工单", "near-due", table(orderCols, data.near_due)),
    panel("超期工单", "overdue", table(orderCols, data.overdue)),
  ];
  for (const [key, title] of [["intake_today_channel", "今日受理（按渠道）"], ["intake_today_category", "今日受理（按类别）"],
    ["intake_month_channel", "本月受理（按渠道）"], ["intake_month_category", "本月受理（按类别）"]]) {
    if (data[key]) parts.push(bar(`chart-${key}`, title, data[key]));
  }
  if (data.units_ranked) {
    parts.push(panel("单位排名（本月按期办结率 / 满意率）", "units-ranked", table([
      ["group", "单位"], ["on_time", "按期办结率", r => pct(r.on_time)], ["satisfaction", "满意率", r => pct(r.satisfaction)]],
      data.units_ranked)));
  }
  if (data.satisfaction_trend) parts.push(bar("chart-satisfaction", "满意率趋势（%）", data.satisfaction_trend));
  if (data.callbacks) parts.push(bar("chart-callbacks", "本月回访进度", data.callbacks));
  parts.push(panel("外呼任务进度", "campaigns", data.campaigns.length ? table([
    ["name", "任务"], ["state", "状态"], ["contacts", "名单"], ["contacts_dialled", "已拨"], ["connected", "接通"],
    ["completed", "完成"]], data.campaigns) : el("p", {}, "暂无外呼任务")));
  main.replaceChildren(el("p", {}, `更新于 ${shortTime(data.generated_at)}`), el("div", { class: "grid" }, parts));
}

const pct = v => v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`;

async function worklists() {
  const me = await api("/api/me");
  const blocks = [];
  const cols = [["ticket_no", "工单", orderLink], ["category", "类别"], ["urgency", "紧急"],
    ["department", "承办单位"], ["due_at", "办结时限", r => shortTime(r.due_at)], ["sla_state", "状态"]];
  if (!me.roles.includes("department")) {
    const dispatch = panel("待派单", "pending-dispatch");
    blocks.push(dispatch);
    api("/api/worklists/dispatch").then(d => dispatch.append(table([["ticket_no", "工单", orderLink], ["category", "类别"],
      ["urgency", "紧急"], ["region", "区域"], ["dispatch_due_at", "派单时限", r => shortTime(r.dispatch_due_at)]],
    d.orders))).catch(e => fail(dispatch, e));
    const ladder = panel("催督办", "ladder");
    blocks.push(ladder);
    api("/api/worklists/ladder").then(d => ladder.append(table([...cols, ["ladder_steps", "已到", r => r.ladder_steps.join(" → ")]],
      d.orders))).catch(e => fail(ladder, e));
  }
  const unit = panel(me.dept ? `本单位工单（${me.dept}）` : "单位工单", "unit-orders");
  blocks.push(unit);
  const list = el("div", {});
  const load = dept => api(`/api/worklists/unit${dept ? `?dept=${encodeURIComponent(dept)}` : ""}`)
    .then(d => list.replaceChildren(table(cols, d.orders))).catch(e => fail(list, e));
  if (me.dept) { load(""); } else {
    const select = el("select", { id: "unit-select", onchange: () => load(select.value) }, el("option", { value: "" }, "选择单位"));
    api("/api/departments").then(d => d.departments.forEach(n => select.append(el("option", { value: n }, n)))).catch(() => {});
    unit.append(select);
  }
  unit.append(list);
  main.replaceChildren(el("div", { class: "grid" }, blocks));
}

async function order() {
  const no = decodeURIComponent(location.pathname.split("/").pop());
  const head = panel(`工单 ${no}`, "order-state");
  const timeline = panel("时间线", "timeline");
  const check = panel("链校验", "verify");
  main.replaceChildren(el("div", { class: "grid" }, head, check), timeline);
  let view;
  try { view = await api(`/api/orders/${encodeURIComponent(no)}`); } catch (e) { fail(head, e); return; }
  head.append(describe(view, "current"));
  const me = await api("/api/me");
  const grid = main.querySelector(".grid");
  if (me.may.includes("suggest")) grid.append(dispatchPanel(no, view, me));
  if (me.may.includes("duplicates")) grid.append(duplicatesPanel(no, me));
  if (view.content) {
    const assist = panel("知识库推荐", "order-kb");
    main.querySelector(".grid").append(assist);
    api(`/api/kb/search?${new URLSearchParams({ text: view.content, limit: "3" })}`)
      .then(r => assist.append(articles(r, "order-kb-hits"))).catch(() => assist.remove());  // no kb_read: no panel
  }
  api(`/api/orders/${encodeURIComponent(no)}/verify`).then(r => check.append(el("p", { class: r.ok ? "ok" : "error", id: "verify-status" },
    r.ok ? `通过：${r.checked_events} 个事件` : `失败：${r.problems.length} 处问题`))).catch(e => fail(check, e));
  let history;
  try { history = await api(`/api/orders/${encodeURIComponent(no)}/history`); } catch (e) { fail(timeline, e); return; }
  const events = history.events;
  const slider = el("input", { type: "range", id: "as-of", min: "0", max: String(events.length - 1), value: String(events.length - 1) });
  const label = el("p", { id: "as-of-label" });
  const asOfState = el("div", { id: "as-of-state" });
  const items = events.map(ev => el("li", {}, `${shortTime(ev.at)} · ${ev.actor.role}:${ev.actor.id} · ${ev.type}`,
    ev.details && (ev.details.reason || ev.details.note) ? ` · 理由：${ev.details.reason || ev.details.note}` : ""));
  const move = async () => {
    const i = Number(slider.value);
    const at = events[i].at;
    items.forEach((li, j) => li.classList.toggle("future", j > i));
    try {
      const then = await api(`/api/orders/${encodeURIComponent(no)}/history?as_of=${encodeURIComponent(at)}`);
      label.textContent = `回溯到 ${shortTime(at)}（第 ${i + 1} 个事件）：${then.state.state}`;
      asOfState.replaceChildren(describe(then.state, "as-of"));
      document.body.dataset.asOfVersion = String(then.state.version);
    } catch (e) { fail(asOfState, e); }
  };
  slider.addEventListener("input", move);
  timeline.append(slider, label, el("ol", { class: "timeline" }, items), asOfState);
}

// ----- 智能派单 and 并单建议 on the order page ------------------------------------------------
function dispatchPanel(no, view, me) {
  // The top suggestions with scores and reasons; where the order waits for dispatch and the
  // caller may dispatch, the 派单 form, which one click on a suggestion fills in.
  const box = panel("智能派单建议", "order-suggestions");
  const open = view.state === "已受理" && me.may.includes("dispatch");
  const dept = el("select", { id: "dispatch-dept", name: "dept" }, el("option", { value: "" }, "选择承办单位"));
  const assist = el("input", { id: "dispatch-assist", name: "assist", size: "40", placeholder: "协办单位（可选，以顿号分隔）" });
  const message = el("p", { id: "dispatch-message" });
  const pick = s => { dept.value = s.dept; assist.value = s.assist.join("、"); document.body.dataset.picked = s.dept; };
  const submit = async e => {
    e.preventDefault();
    const units = assist.value.split(/[、,，\s]+/).filter(Boolean);
    try {
      const after = await api(`/api/orders/${encodeURIComponent(no)}/dispatch`, { dept: dept.value, assist: units });
      message.className = "ok"; message.textContent = `已派单：${after.department}`;
      await order();
    } catch (err) { message.className = "error"; message.textContent = `${err.status || ""} ${err.message}`; }
  };
  const units = open ? api("/api/departments").then(d => d.departments.forEach(n => dept.append(el("option", { value: n }, n))))
    : Promise.resolve();
  const list = el("div", { id: "suggestion-list" });
  box.append(list);
  Promise.all([api(`/api/orders/${encodeURIComponent(no)}/suggestions`), units]).then(([r]) => {
    list.append(r.suggestions.length ? el("ol", { id: "suggestions", class: "suggestions" }, r.suggestions.map((s, i) =>
      el("li", { "data-dept": s.dept },
        el("strong", {}, s.dept), el("span", { class: "score" }, ` ${s.score.toFixed(2)}`),
        s.assist.length ? el("span", { class: "assist" }, ` 协办：${s.assist.join("、")}`) : "",
        el("p", { class: "reason" }, s.reason),
        open ? el("button", { type: "button", class: "pick", id: `pick-${i + 1}`, onclick: () => pick(s) }, "选用") : "")))
      : el("p", {}, "暂无建议"));
    if (open && r.suggestions.length) pick(r.suggestions[0]);
  }).catch(e => fail(list, e));
  if (open) {
    box.append(el("form", { id: "dispatch-form", class: "filters", onsubmit: submit }, "承办单位", dept, assist,
      el("button", { type: "submit", id: "dispatch-button" }, "派单")), message);
  }
  return box;
}

function duplicatesPanel(no, me) {
  // Open orders of the same area that read alike; 并单 merges the later into the earlier.
  const box = panel("并单建议", "order-duplicates");
  const message = el("p", { id: "merge-message" });
  const merge = async m => {
    try {
      await api(`/api/orders/${encodeURIComponent(m.ticket_no)}/merge`, { into: m.into, reason: m.reason });
      message.className = "ok"; message.textContent = `已并单：${m.ticket_no} → ${m.into}`;
      await order();
      document.getElementById("main").append(message);
    } catch (err) { message.className = "error"; message.textContent = `${err.status || ""} ${err.message}`; }
  };
  api(`/api/orders/${encodeURIComponent(no)}/duplicates`).then(r => {
    if (!r.candidates.length) { box.append(el("p", { id: "no-duplicates" }, "没有疑似重复的工单")); return; }
    box.append(table([["ticket_no", "工单", orderLink], ["score", "相似度", c => c.score.toFixed(2)], ["state", "状态"],
      ["created_at", "受理时间", c => shortTime(c.created_at)], ["content", "诉求"],
      ["same_citizen", "同一来电人", c => c.same_citizen ? "是" : ""],
      ["merge", "", c => c.merge_order && me.may.includes("merge")
        ? el("button", { type: "button", class: "merge", "data-ticket": c.ticket_no, onclick: () => merge(c.merge_order),
          title: `${c.merge_order.ticket_no} 并入 ${c.merge_order.into}` }, "并单") : ""]], r.candidates), message);
    box.querySelector("table").id = "duplicates";
  }).catch(e => fail(box, e));
  return box;
}

function describe(view, id) {
  const rows = [["状态", [view.state, view.substate].filter(Boolean).join(" / ")], ["类别", view.category], ["紧急程度", view.urgency],
    ["渠道", view.channel], ["区域", view.region], ["承办单位", view.department], ["协办单位", (view.assist_departments || []).join("、")],
    ["来电人", `${view.caller_name || ""} ${view.caller_phone || ""}`], ["诉求", view.content],
    ["派单时限", shortTime(view.dispatch_due_at)], ["办结时限", shortTime(view.due_at)], ["时限状态", view.sla_state],
    ["版本", view.version]];
  return el("table", { id: `${id}-table` }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v ?? "")))));
}

async function reports() {
  const today = new Date().toISOString().slice(0, 10);
  const from = el("input", { type: "date", name: "date_from", value: today.slice(0, 8) + "01" });
  const to = el("input", { type: "date", name: "date_to", value: today });
  const by = el("select", { name: "by" }, [["", "全部"], ["dept", "单位"], ["category", "类别"], ["region", "区域"], ["channel", "渠道"]]
    .map(([v, l]) => el("option", { value: v }, l)));
  const out = el("div", { id: "report-table" });
  const links = el("span", {});
  const run = async e => {
    if (e) e.preventDefault();
    const q = new URLSearchParams({ from: from.value, to: to.value, by: by.value }).toString();
    links.replaceChildren();
    try {
      const r = await api(`/api/report?${q}`);
      for (const [format, label] of [["csv", "下载 CSV"], ["xlsx", "下载 Excel"]]) {
        links.append(el("a", { href: `/api/report/download?${q}&format=${format}`, id: `download-${format}` }, label), " ");
      }
      const names = r.rows.length ? Object.keys(r.rows[0].kpis) : [];
      out.replaceChildren(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "分组"), names.map(n => el("th", {}, n)))),
        el("tbody", {}, r.rows.map(row => el("tr", {}, el("td", { class: "unit", title: row.group }, row.group),
          names.map(n => { const k = row.kpis[n]; return el("td", { title: `${k.numerator} / ${k.denominator}` }, pct(k.rate)); }))))));
    } catch (err) { fail(out, err); }
  };
  main.replaceChildren(panel("报表", "reports", el("form", { class: "filters", onsubmit: run }, "从", from, "到", to, "分组", by,
    el("button", { type: "submit" }, "查询"), links), out));
  run();
}

// ----- knowledge base: agent assist --------------------------------------------------------
function articles(result, id) {
  // The valid articles for the text, best first; each cites its key and version.
  const box = el("div", { id });
  if (!result.hits.length) { box.append(el("p", {}, "知识库中没有相关条目")); return box; }
  box.append(el("ol", { class: "kb-hits" }, result.hits.map(h => el("li", { "data-key": h.key },
    el("strong", {}, h.title), " ", el("span", { class: "citation" }, `〔${h.citation}〕`),
    el("span", { class: "score" }, ` ${h.score.toFixed(2)}`), el("p", {}, h.short_answer),
    h.follow_ups.length ? el("p", { class: "follow-ups" }, `追问：${h.follow_ups.join("、")}`) : "",
    el("p", { class: "source" }, `${h.unit} · ${h.source || ""}`)))));
  return box;
}

async function kb() {
  const text = el("textarea", { id: "kb-text", rows: "3", placeholder: "输入来电人所说的内容，实时推荐知识库条目" });
  const out = el("div", { id: "kb-results" });
  let timer = null;
  const search = async () => {
    if (!text.value.trim()) { out.replaceChildren(); return; }
    const asked = text.value;
    try {
      const r = await api(`/api/kb/search?${new URLSearchParams({ text: asked, limit: "5" })}`);
      if (asked === text.value) { out.replaceChildren(articles(r, "kb-hits")); document.body.dataset.kbQuery = asked; }
    } catch (e) { fail(out, e); }
  };
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  main.replaceChildren(panel("知识库（坐席辅助）", "kb", text, out));
}

function login() {
  const token = el("input", { type: "password", id: "token", autocomplete: "off", size: "60", placeholder: "rexian token issue 签发的令牌" });
  const message = el("p", { id: "login-message", class: "error" });
  const submit = async e => {
    e.preventDefault();
    const response = await fetch("/api/login", { method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json" }, body: JSON.stringify({ token: token.value }) });
    if (response.ok) { location.href = "/"; return; }
    const body = await response.json();
    message.textContent = body.zh || "登录失败";
  };
  main.replaceChildren(panel("登录", "login", el("form", { onsubmit: submit }, el("label", {}, "访问令牌 ", token), " ",
    el("button", { type: "submit", id: "login-button" }, "登录")), message));
}

// ----- live updates (server-sent events) -------------------------------------------------
const renderers = { overview, worklists, order, reports, kb };
function live() {
  const badge = el("span", { id: "live" }, "实时：连接中");
  document.querySelector("header").append(badge);
  const source = new EventSource("/api/events");
  let timer = null;
  source.addEventListener("hello", e => { badge.textContent = "实时：已连接"; document.body.dataset.position = JSON.parse(e.data).position; });
  source.addEventListener("changed", e => {
    const position = JSON.parse(e.data).position;
    badge.textContent = `实时：第 ${position} 条事件`;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (page !== "order") await renderers[page]().catch(() => {});  // an order page keeps its as-of position
      document.body.dataset.position = position;
    }, 200);
  });
  source.onerror = () => { badge.textContent = "实时：重连中"; };
}

const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", async () => {
  await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf, "content-type": "application/json" } });
  location.href = "/login";
});
if (page === "login") login(); else { renderers[page]().catch(e => fail(main, e)); live(); }
