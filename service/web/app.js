// The page's behaviour: tabs, scoring statements (with the words that drove each decision),
// scoring a CSV file, and the model card. Talks only to this server's own API; every error
// shown is the API's own message.
"use strict";

const $ = (id) => document.getElementById(id);
const percent = (p) => `${(100 * p).toFixed(1)} %`;
const signed = (x) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(2);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(box, message) {
  box.textContent = message;
  box.hidden = !message;
}

async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) {
    /* not JSON: fall through */
  }
  return `the server answered ${response.status} ${response.statusText}`;
}

// -- tabs (WAI-ARIA tabs: arrow keys move between tabs, Tab moves into the panel) --------------

const tabs = Array.from(document.querySelectorAll('[role="tab"]'));

function selectTab(tab, focus) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  if (tab.id === "tab-model") loadModelCard();
}

tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => selectTab(tab, false));
  tab.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(tabs[(index + moves[event.key] + tabs.length) % tabs.length], true);
  });
});

// -- statements ---------------------------------------------------------------------------------

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

function words(text) {
  return Array.from(text.matchAll(WORD), (m) => ({
    start: m.index,
    end: m.index + m[0].length,
    norm: m[0].toLowerCase().replace(/’/g, "'"),
    weight: 0,
    features: [],
  }));
}

// Credit each explanation feature (a word n-gram, or a character n-gram credited to its word)
// to every place its words occur in the text. Features of the model's own vocabulary that name
// no words of the text (tone scores, synonyms it rewrote) are listed but not highlighted.
function creditFeatures(tokens, explanation) {
  const features = [...explanation.toward, ...explanation.against];
  for (const { feature, weight } of features) {
    if (feature.startsWith("vader_")) continue;
    const parts = feature.split(" ").map((w) => w.replace(/^neg_/, "").replace(/’/g, "'"));
    for (let i = 0; i + parts.length <= tokens.length; i++) {
      if (parts.every((part, k) => tokens[i + k].norm === part)) {
        for (let k = 0; k < parts.length; k++) {
          tokens[i + k].weight += weight;
          tokens[i + k].features.push(`${feature} ${signed(weight)}`);
        }
      }
    }
  }
}

function highlighted(text, explanation) {
  const box = el("p", { class: "statement" });
  if (!explanation) {
    box.textContent = text;
    return box;
  }
  const tokens = words(text);
  creditFeatures(tokens, explanation);
  let at = 0;
  for (const token of tokens) {
    if (token.weight === 0) continue;
    box.append(text.slice(at, token.start));
    const side = token.weight > 0 ? "toward" : "against";
    const title = `${side} ${explanation.label}: ${token.features.join(", ")}`;
    box.append(
      el("mark", { class: side, title, tabindex: "0", "aria-label": `${text.slice(token.start, token.end)} (${title})` },
        text.slice(token.start, token.end)),
    );
    at = token.end;
  }
  box.append(text.slice(at));
  return box;
}

function stanceBar(score) {
  // score runs from −1 (oppose) to +1 (support); the marker sits at that point of the track.
  const left = ((score + 1) / 2) * 100;
  const bar = el("div", {
    class: "bar",
    role: "meter",
    "aria-valuemin": "-1",
    "aria-valuemax": "1",
    "aria-valuenow": score.toFixed(2),
    "aria-label": `stance score ${signed(score)} on a scale from −1 (oppose) to +1 (support)`,
  });
  const marker = el("span", { class: "marker" });
  marker.style.left = `${left}%`;
  bar.append(el("span", { class: "end oppose", text: "oppose −1" }), el("span", { class: "track" }, marker),
    el("span", { class: "end support", text: "+1 support" }));
  return bar;
}

function probabilities(head) {
  const list = el("ul", { class: "probabilities" });
  for (const [label, p] of Object.entries(head.probabilities)) {
    const item = el("li", {}, el("span", { class: "p-label", text: label }), " ", el("span", { class: "p-value", text: percent(p) }));
    list.append(item);
  }
  return list;
}

function featureList(explanation) {
  const format = (items) => items.map((f) => `${f.feature} (${signed(f.weight)})`).join(", ") || "none";
  return el("p", { class: "features" },
    el("span", { class: "toward-text", text: `Toward ${explanation.label}: ` }), format(explanation.toward), el("br"),
    el("span", { class: "against-text", text: `Against ${explanation.label}: ` }), format(explanation.against));
}

function resultCard(text, result) {
  const stance = result.stance;
  const sentiment = result.sentiment;
  const explanation = result.explanation ? result.explanation.stance : null;
  const card = el("li", { class: "result" });
  card.append(highlighted(text, explanation));
  card.append(
    el("p", { class: "verdict" },
      el("span", { class: `label stance-${stance.label}`, text: `Stance: ${stance.label}` }), " ",
      el("span", { class: "score", text: `score ${signed(stance.score)}` }), " · ",
      el("span", { class: `label sentiment-${sentiment.label}`, text: `Tone: ${sentiment.label}` })),
  );
  card.append(stanceBar(stance.score));
  const details = el("div", { class: "heads" },
    el("div", {}, el("h3", { text: "Stance probabilities" }), probabilities(stance)),
    el("div", {}, el("h3", { text: "Tone probabilities" }), probabilities(sentiment)));
  card.append(details);
  if (explanation) card.append(featureList(explanation));
  if (result.truncated) card.append(el("p", { class: "note", text: "Scored on the statement's first characters only (it is longer than the limit)." }));
  return card;
}

async function scoreStatements(event) {
  event.preventDefault();
  const error = $("statements-error");
  showError(error, "");
  const texts = $("texts").value.split(/\r?\n/).map((t) => t.trim()).filter((t) => t);
  if (!texts.length) {
    showError(error, "Type or paste at least one statement (one per line).");
    return;
  }
  const explain = $("explain").checked;
  const button = $("score-button");
  button.disabled = true;
  button.textContent = "Scoring…";
  try {
    const response = await fetch(`/v1/score${explain ? "?explain=true" : ""}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ texts }),
    });
    if (!response.ok) {
      showError(error, await apiError(response));
      return;
    }
    const body = await response.json();
    const list = $("results");
    list.replaceChildren(...body.results.map((result, i) => resultCard(texts[i], result)));
    $("legend").hidden = !explain;
    $("model-version").textContent = body.model.version;
  } catch (exc) {
    showError(error, `The server could not be reached (${exc.message}).`);
  } finally {
    button.disabled = false;
    button.textContent = "Score";
  }
}

$("statements-form").addEventListener("submit", scoreStatements);
for (const example of document.querySelectorAll(".example")) {
  example.addEventListener("click", () => {
    $("texts").value = example.textContent;
    $("statements-form").requestSubmit();
  });
}

// -- article ------------------------------------------------------------------------------------

function who(speaker) {
  return speaker.role ? `${speaker.name} (${speaker.role})` : speaker.name;
}

function speakerItem(speaker, statements) {
  const stance = speaker.stance;
  const item = el("li", { class: "speaker" },
    el("p", { class: "verdict" },
      el("strong", { text: who(speaker) }), " · ",
      el("span", { class: `label stance-${stance.label}`, text: stance.label }), " ",
      el("span", { class: "score", text: `mean score ${signed(stance.score)} over ${speaker.statements} statement${speaker.statements > 1 ? "s" : ""}` })),
    stanceBar(stance.score));
  const said = statements.filter((s) => s.speaker.name === speaker.name && s.speaker.role === speaker.role);
  item.append(el("ul", { class: "said-list" }, ...said.map((s) =>
    el("li", {}, el("span", { class: `label stance-${s.stance.label}`, text: `${s.stance.label} ${signed(s.stance.score)}` }),
      ` (${s.kind}) `, s.text))));
  return item;
}

function markedArticle(text, statements) {
  const box = $("marked");
  const paragraphs = [];
  let paragraph = el("p");
  let at = 0;
  const flush = (upTo) => {
    const chunk = text.slice(at, upTo);
    const lines = chunk.split("\n");
    lines.forEach((line, i) => {
      if (i > 0) { paragraphs.push(paragraph); paragraph = el("p"); }
      if (line) paragraph.append(line);
    });
    at = upTo;
  };
  for (const s of statements.filter((x) => x.kind !== "narration")) {
    if (s.start < at) continue;
    flush(s.start);
    const speaker = s.speaker.name ? who(s.speaker) : "unattributed";
    const title = `${speaker}, ${s.kind}: stance ${s.stance.label} ${signed(s.stance.score)}, tone ${s.sentiment.label}`;
    paragraph.append(el("span", { class: `said ${s.stance.label}`, title, tabindex: "0", "aria-label": `${s.text} (${title})` }, text.slice(s.start, s.end)));
    at = s.end;
  }
  flush(text.length);
  paragraphs.push(paragraph);
  box.replaceChildren(...paragraphs.filter((p) => p.childNodes.length));
}

async function findStatements(event) {
  event.preventDefault();
  const error = $("article-error");
  showError(error, "");
  const file = $("article-file").files[0];
  let body = $("article-text").value;
  let type = "text/plain; charset=utf-8";
  if (file) {
    body = await file.text();
    if (/\.html?$/i.test(file.name) || file.type === "text/html") type = "text/html; charset=utf-8";
  }
  if (!body.trim()) {
    showError(error, "Paste an article or choose a file first.");
    return;
  }
  const button = $("article-button");
  button.disabled = true;
  try {
    const response = await fetch("/v1/articles", { method: "POST", headers: { "Content-Type": type }, body });
    if (!response.ok) {
      showError(error, await apiError(response));
      return;
    }
    const [article] = (await response.json()).articles;
    $("speakers").replaceChildren(...article.speakers.map((sp) => speakerItem(sp, article.statements)));
    if (!article.speakers.length) $("speakers").replaceChildren(el("li", { text: "No attributed statements found." }));
    markedArticle(article.text, article.statements);
    $("article-result").hidden = false;
  } catch (exc) {
    showError(error, `The server could not be reached (${exc.message}).`);
  } finally {
    button.disabled = false;
  }
}

$("article-form").addEventListener("submit", findStatements);
$("article-file").addEventListener("change", () => {
  if ($("article-file").files[0]) $("article-text").value = "";
});

// -- CSV ----------------------------------------------------------------------------------------

// RFC 4180 rows of a CSV text (quoted fields may hold commas, quotes and newlines).
function* csvRows(text) {
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      yield row;
      row = [];
    } else field += c;
  }
  if (field || row.length) { row.push(field); yield row; }
}

function preview(text, limit) {
  const rows = [];
  for (const row of csvRows(text)) {
    rows.push(row);
    if (rows.length > limit) break;
  }
  const [header, ...body] = rows;
  const table = $("csv-preview");
  table.tHead.replaceChildren(el("tr", {}, ...header.map((h) => el("th", { scope: "col", text: h }))));
  table.tBodies[0].replaceChildren(...body.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: v, title: v })))));
}

function scoredName(name) {
  const stem = name.replace(/\.[^.]*$/, "");
  return `${stem}.scored.csv`;
}

let downloadUrl = null;

function scoreCsv(event) {
  event.preventDefault();
  const error = $("csv-error");
  showError(error, "");
  $("csv-result").hidden = true;
  const file = $("csv-file").files[0];
  if (!file) {
    showError(error, "Choose a CSV file first.");
    return;
  }
  if (/\.(jsonl|ndjson|json|parquet)$/i.test(file.name)) {
    showError(error, "The page scores CSV files. For JSON Lines or Parquet, use `stance score FILE` on the command line.");
    return;
  }
  const form = new FormData();
  form.append("file", file);
  const column = $("text-column").value.trim();
  const url = "/v1/score/csv" + (column ? `?text_column=${encodeURIComponent(column)}` : "");
  const box = $("csv-progress-box");
  const bar = $("csv-progress");
  const label = $("csv-progress-label");
  const button = $("csv-button");
  box.hidden = false;
  bar.value = 0;
  label.textContent = "Uploading…";
  button.disabled = true;
  const request = new XMLHttpRequest();
  request.open("POST", url);
  request.responseType = "text";
  request.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) bar.value = (50 * e.loaded) / e.total;
  });
  request.upload.addEventListener("load", () => { label.textContent = "Scoring…"; });
  request.addEventListener("progress", (e) => {
    // The scored file streams back; its length is not known in advance.
    bar.value = Math.min(99, 50 + (e.lengthComputable ? (49 * e.loaded) / e.total : 25));
    label.textContent = `Scoring… ${(e.loaded / 1024).toFixed(0)} KiB received`;
  });
  request.addEventListener("load", () => {
    button.disabled = false;
    box.hidden = true;
    if (request.status !== 200) {
      let message = `the server answered ${request.status}`;
      try { message = JSON.parse(request.responseText).error.message; } catch (_) { /* keep */ }
      showError(error, message);
      return;
    }
    const rows = Number(request.getResponseHeader("X-Rows") || 0);
    const truncated = Number(request.getResponseHeader("X-Truncated-Rows") || 0);
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([request.responseText], { type: "text/csv" }));
    const link = $("csv-download");
    link.href = downloadUrl;
    link.download = scoredName(file.name);
    $("csv-summary").textContent = `Scored ${rows.toLocaleString("en")} rows of ${file.name}` +
      (truncated ? ` (${truncated} scored on their first characters only).` : ".") +
      " Rows whose text could not be scored keep their place with a message in the error column.";
    preview(request.responseText, 10);
    $("csv-result").hidden = false;
  });
  request.addEventListener("error", () => {
    button.disabled = false;
    box.hidden = true;
    showError(error, "The upload failed: the server could not be reached, or it closed the connection (the file may be over the size limit).");
  });
  request.send(form);
}

$("csv-form").addEventListener("submit", scoreCsv);

// -- model card ---------------------------------------------------------------------------------

let modelLoaded = false;

function f1(metrics, head) {
  const value = metrics && metrics[head] && metrics[head].macro_f1;
  return typeof value === "number" ? value.toFixed(3) : "—";
}

async function loadModelCard() {
  if (modelLoaded) return;
  const error = $("model-error");
  try {
    const response = await fetch("/v1/model");
    if (!response.ok) {
      showError(error, await apiError(response));
      return;
    }
    const card = await response.json();
    modelLoaded = true;
    const data = card.training_data || {};
    const counts = (data.counts && data.counts.stance) || {};
    const entries = [
      ["Version", card.version],
      ["Trained", card.created_at],
      ["Training rows", data.rows != null ? `${data.rows.toLocaleString("en")} (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")})` : "—"],
      ["Labels", `stance: ${card.labels.stance.join(", ")}; tone: ${card.labels.sentiment.join(", ")}`],
    ];
    if (card.behaviour) {
      const rates = Object.entries(card.behaviour.rates).map(([k, v]) => `${k} ${percent(v)}`).join(", ");
      entries.push(["Behavioural tests", `${card.behaviour.passed ? "passed" : "failed"} (${rates})`]);
    }
    $("model-card").replaceChildren(...entries.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
    const table = $("model-figures");
    table.tHead.replaceChildren(el("tr", {}, ...["", "stance", "tone"].map((h) => el("th", { scope: "col", text: h }))));
    const dev = card.dev_metrics ? card.dev_metrics.metrics : null;
    const rows = [
      ["real statements (development set, never trained on)", dev],
      ["challenge set (hard cases, never trained on)", card.challenge_metrics],
      ["cross-validated on the training corpus", card.cv_metrics],
    ];
    table.tBodies[0].replaceChildren(...rows.map(([name, m]) =>
      el("tr", {}, el("th", { scope: "row", text: name }), el("td", { text: f1(m, "stance") }), el("td", { text: f1(m, "sentiment") }))));
  } catch (exc) {
    showError(error, `The server could not be reached (${exc.message}).`);
  }
}

async function loadVersion() {
  try {
    const response = await fetch("/readyz");
    const body = await response.json();
    $("model-version").textContent = body.model ? body.model.version : "not loaded";
  } catch (_) {
    $("model-version").textContent = "unreachable";
  }
}

async function loadLimits() {
  // The limits come from the API description this server publishes.
  try {
    const response = await fetch("/openapi.json");
    const doc = await response.json();
    const text = doc.paths["/v1/score/csv"].post.description || "";
    $("csv-limits").textContent = text.replace(/`/g, "");
  } catch (_) {
    /* the limits line stays empty */
  }
}

loadVersion();
loadLimits();
