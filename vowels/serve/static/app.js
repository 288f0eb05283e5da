// The page of `vowels serve`: record with the microphone as PCM, send WAV, show the answer; enrol and train.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_IDENTIFY_S = 15, MAX_TAKE_S = 8, LIVE_EVERY_MS = 500;
let models = [], limits = null;

function show(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = kind === "error" ? "" : kind;
  box.hidden = !text;
}

// The server's _xsrf cookie, echoed in a header: a page of another site cannot read it (vowels.serve.guard).
function xsrf(headers = {}) {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("_xsrf="));
  return cookie ? { ...headers, "X-XSRFToken": cookie.slice(6) } : headers;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, body, headers: xsrf() });
  let data = null;
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    throw new Error((data && data.detail) || `${method} ${path}: HTTP ${response.status}`);
  }
  return data;
}

// --- recording: the microphone's samples through an AudioWorklet, as 16-bit PCM WAV ---------------

function wav(chunks, rate) {
  const n = chunks.reduce((sum, c) => sum + c.length, 0);
  const buffer = new ArrayBuffer(44 + 2 * n), view = new DataView(buffer);
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * n, true);
  let offset = 44;
  for (const chunk of chunks) {
    for (const x of chunk) {
      const s = Math.max(-1, Math.min(1, x));
      view.setInt16(offset, s < 0 ? s * 0x8000 : s * 0x7fff, true);
      offset += 2;
    }
  }
  return new Blob([buffer], { type: "audio/wav" });
}

async function startRecording() {
  if (!navigator.mediaDevices || !window.AudioWorkletNode) {
    throw new Error("this browser cannot record on this address; open the page at the 127.0.0.1 address vowels serve printed.");
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const context = new AudioContext();
  await context.audioWorklet.addModule("/static/recorder-worklet.js");
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "vowels-recorder");
  const chunks = [];
  node.port.onmessage = (event) => chunks.push(event.data);
  source.connect(node);
  node.connect(context.destination);
  return {
    soFar: () => wav(chunks.slice(), context.sampleRate),
    async stop() {
      source.disconnect(); node.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      const rate = context.sampleRate;
      await context.close();
      return wav(chunks, rate);
    },
  };
}

// A record button: first click starts, second click (or the time limit, in s) stops and hands over the WAV.
// `live()`, asked when recording starts, may give a function that gets the WAV so far every LIVE_EVERY_MS;
// a tick that finds its previous call still running is skipped, so calls never overlap.
function recordButton(button, timer, limit, onRecording, { ready = () => true, live = () => null } = {}) {
  const idle = button.textContent;
  let recorder = null, started = 0, ticker = null, liveTicker = null;
  async function finish() {
    clearInterval(ticker); clearInterval(liveTicker);
    const halt = recorder; recorder = null;
    button.classList.remove("recording"); button.textContent = idle; timer.textContent = "";
    const blob = await halt.stop();
    await onRecording(blob);
  }
  button.addEventListener("click", async () => {
    if (recorder) { await finish(); return; }
    if (!ready()) return;
    try {
      recorder = await startRecording();
    } catch (error) {
      show(`Cannot record: ${error.message}`);
      return;
    }
    show("");
    started = Date.now();
    const longest = limit();
    button.classList.add("recording"); button.textContent = "■ Stop";
    ticker = setInterval(() => {
      const seconds = (Date.now() - started) / 1000;
      timer.textContent = `recording… ${seconds.toFixed(1)} s`;
      if (seconds >= longest && recorder) finish();
    }, 100);
    const send = live();
    if (send) {
      const current = recorder;
      let busy = false;
      liveTicker = setInterval(async () => {
        if (busy || recorder !== current) return;
        busy = true;
        try { await send(current.soFar(), (Date.now() - started) / 1000); } finally { busy = false; }
      }, LIVE_EVERY_MS);
    }
  });
}

// --- identify ---------------------------------------------------------------------------------------

function describeModel(model) {
  if (!model) return "No model yet: enrol speakers to train one.";
  if (!model.usable) return model.problem;
  const live = model.streams ? " Forward-only: the answer updates while you speak." : "";
  return `${model.speakers.length} speakers: ${model.speakers.join(", ")}. Unknown-speaker ${model.threshold_note}.${live}`;
}

async function loadModels(select) {
  const data = await api("GET", "/api/models");
  models = data.models;
  limits = data.limits;
  const chosen = select || $("model").value || data.default;
  $("model").replaceChildren(...models.map((m) => {
    const option = new Option(m.usable ? m.name : `${m.name} (cannot be used)`, m.name);
    option.disabled = !m.usable;
    return option;
  }));
  if (chosen && models.some((m) => m.name === chosen && m.usable)) $("model").value = chosen;
  showModel();
}

function showModel() {
  const model = models.find((m) => m.name === $("model").value);
  $("model-info").textContent = describeModel(model);
}

function bars(result) {
  const openSet = result.scoring === "open-set";
  const low = openSet ? -1 : 0;
  const at = (x) => `${(100 * (x - low)) / (1 - low)}%`;
  const rows = result.speakers.map((s) => {
    const row = document.createElement("div");
    row.className = "bar-row" + (s.name === result.nearest ? " best" : "");
    row.dataset.speaker = s.name;
    row.innerHTML = `<span class="bar-name"></span><div class="bar-track"><div class="bar-fill"></div>` +
      `<div class="bar-threshold"></div></div><span class="bar-value"></span>`;
    row.querySelector(".bar-name").textContent = s.name;
    row.querySelector(".bar-fill").style.width = at(Math.max(low, s.score));
    row.querySelector(".bar-threshold").style.left = at(result.threshold);
    row.querySelector(".bar-value").textContent = s.score.toFixed(3);
    row.title = s.probability === null
      ? `score ${s.score.toFixed(3)} (cosine to the speaker's voiceprint)`
      : `score ${s.score.toFixed(3)}, network probability ${s.probability.toFixed(3)}`;
    return row;
  });
  const legend = document.createElement("p");
  legend.className = "legend muted";
  legend.innerHTML = openSet
    ? "Score: how much the recording sounds like each speaker, from −1 to 1;<span class='swatch'></span>threshold."
    : "Score: the network's probability of each speaker;<span class='swatch'></span>threshold.";
  $("bars").replaceChildren(...rows, legend);
}

// Each request for an answer gets the next number; an answer to an older one is dropped when it comes back.
let asked = 0;

function classify(model, blob, filename, figure) {
  const form = new FormData();
  form.append("file", blob, filename);
  return api("POST", `/api/models/${encodeURIComponent(model)}/classify${figure ? "?figure=true" : ""}`, form);
}

// The answer so far ("So far: alice") or the final one, the bars of every speaker's score.
function showAnswer(result, provisional) {
  $("result").hidden = false;
  $("result").classList.toggle("provisional", provisional);
  $("answer-label").textContent = provisional ? "So far:" : "Answer:";
  $("answer").textContent = result.speaker;
  $("answer").classList.toggle("unknown", result.unknown);
  $("answer").classList.toggle("provisional", provisional);
  bars(result);
}

// For a model that streams: while recording, the audio so far is classified (ordinary classify requests).
function liveIdentify() {
  const model = models.find((m) => m.name === $("model").value);
  if (!model || !model.streams) return null;
  const id = ++asked;
  $("result").hidden = false;
  $("result").classList.add("provisional");
  $("answer-label").textContent = "So far:";
  $("answer").textContent = "…";
  $("answer").className = "provisional";
  $("answer-detail").textContent = "Listening: the answer updates while you speak, and is final when you stop.";
  $("bars").replaceChildren();
  $("figure").hidden = true;
  return async (blob, seconds) => {
    if (limits && blob.size > limits.max_upload_bytes) return;
    let result;
    try {
      result = await classify(model.name, blob, "microphone.wav", false);
    } catch (error) {
      return; // too short or silent so far: the next tick has more to go on
    }
    if (id !== asked) return;
    showAnswer(result, true);
    $("answer-detail").textContent = `After ${seconds.toFixed(1)} s: score ${result.score.toFixed(3)}, ` +
      `threshold ${result.threshold.toFixed(3)}. The answer updates while you speak, and is final when you stop.`;
  };
}

async function identify(blob, filename) {
  const model = $("model").value;
  if (!model) { show("No model to identify with: enrol speakers and train one first."); return; }
  const id = ++asked;
  if (!$("answer").classList.contains("provisional")) $("answer").textContent = "…";
  try {
    const result = await classify(model, blob, filename, true);
    if (id !== asked) return;
    show("");
    showAnswer(result, false);
    const versus = result.unknown ? "<" : "≥";
    $("answer-detail").textContent = result.unknown
      ? `Nearest ${result.nearest}, score ${result.score.toFixed(3)} ${versus} threshold ${result.threshold.toFixed(3)}: a voice this model does not know.`
      : `Score ${result.score.toFixed(3)} ${versus} threshold ${result.threshold.toFixed(3)}` +
        (result.probability === null ? "" : `; network probability ${result.probability.toFixed(3)}`) +
        `. File: ${result.file}.`;
    if (result.figure_png) {
      $("figure").src = `data:image/png;base64,${result.figure_png}`;
      $("figure").hidden = false;
    }
  } catch (error) {
    if (id !== asked) return;
    $("answer").textContent = "";
    $("answer").className = "";
    $("result").hidden = true;
    show(error.message);
  }
}

function setUpIdentify() {
  $("model").addEventListener("change", showModel);
  const longest = () => Math.min(MAX_IDENTIFY_S, limits ? limits.max_upload_seconds : MAX_IDENTIFY_S);
  recordButton($("identify-record"), $("identify-timer"), longest, (blob) => identify(blob, "microphone.wav"), {
    live: liveIdentify,
  });
  $("file").addEventListener("change", () => {
    const file = $("file").files[0];
    if (file) identify(file, file.name);
    $("file").value = "";
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) identify(file, file.name);
  });
}

// --- enrol ------------------------------------------------------------------------------------------

const enrolModel = () => $("enrol-model").value.trim();
const path = (...parts) => "/api/models/" + parts.map(encodeURIComponent).join("/");

function showEnrolment(state) {
  const rows = state.speakers.map((s) => {
    const row = document.createElement("tr");
    row.dataset.speaker = s.name;
    row.innerHTML = "<td></td><td class='count'></td><td><button class='small' type='button'>remove</button></td>";
    row.cells[0].textContent = s.name;
    row.cells[1].textContent = s.recordings;
    row.querySelector("button").addEventListener("click", async () => {
      try { showEnrolment(await api("DELETE", path(enrolModel(), "enrolment", s.name))); } catch (e) { show(e.message); }
    });
    return row;
  });
  $("speakers").tBodies[0].replaceChildren(...rows);
  $("enrol-status").textContent = state.ready
    ? `Ready to train${state.model_exists ? " (a model of this name exists: tick “replace” to train it again)" : ""}.`
    : `Before training: ${state.problem}`;
  $("train").disabled = !state.ready;
}

async function refreshEnrolment() {
  const model = enrolModel();
  if (!model) return;
  try {
    const state = await api("GET", path(model, "enrolment"));
    if (model !== enrolModel()) return;  // renamed while the answer was on its way: a later call shows the new one
    showEnrolment(state);
    show("");
  } catch (e) {
    if (model === enrolModel()) show(e.message);
  }
}

function postTake(speaker, blob, filename) {
  const form = new FormData();
  form.append("file", blob, filename);
  return api("POST", path(enrolModel(), "enrolment", speaker), form);
}

const speakerNamed = () => {
  if (enrolModel() && $("enrol-speaker").value.trim()) return true;
  show("Name the model and the speaker first.");
  return false;
};

async function addTake(blob) {
  const speaker = $("enrol-speaker").value.trim();
  try {
    showEnrolment(await postTake(speaker, blob, `${speaker}.wav`));
    show("");
  } catch (error) {
    show(error.message);
  }
}

// Recordings the user already has, sent one by one as a recording is: each file listed with what became of it
// (added, or the server's reason for refusing it).
async function addFiles(files) {
  if (!files.length || !speakerNamed()) return;
  const speaker = $("enrol-speaker").value.trim();
  show("");
  $("enrol-sent").hidden = false;
  $("enrol-sent").replaceChildren();
  for (const file of files) {
    const item = document.createElement("li");
    item.dataset.file = file.name;
    item.innerHTML = "<span class='file'></span> <span class='reason'></span>";
    item.querySelector(".file").textContent = file.name;
    $("enrol-sent").append(item);
    try {
      showEnrolment(await postTake(speaker, file, file.name));
      item.className = "added";
      item.querySelector(".reason").textContent = `added to ${speaker}`;
    } catch (error) {
      const reason = error.message.startsWith(`${file.name}: `) ? error.message.slice(file.name.length + 2) : error.message;
      item.className = "refused";
      item.querySelector(".reason").textContent = reason;
    }
  }
}

const NETWORKS = { bilstm: "Bidirectional network", lstm: "Forward-only network" };

// What training gave: how the model was made and how well it did, its threshold and how it was chosen, warnings.
function outcome(job) {
  const model = job.result, lines = [];
  const line = (text, kind = "") => {
    const item = document.createElement("li");
    item.textContent = text;
    item.className = kind;
    lines.push(item);
  };
  if (model.architecture === "encoder") {
    line(`Pretrained speaker encoder: ${model.n_recordings} recordings embedded, nothing trained, so no validation accuracy.`);
  } else {
    const network = NETWORKS[model.architecture] || `Network ${model.architecture}`;
    line(model.validation_accuracy === null
      ? `${network} trained on ${model.n_recordings} recordings; none was held out, so accuracy was not measured.`
      : `${network}: validation accuracy ${(100 * model.validation_accuracy).toFixed(1)}% on ${model.n_validation} ` +
        `recordings held out of training; the model saved was then trained on all ${model.n_recordings}.`);
  }
  line(`Unknown-speaker ${model.threshold_note}.`, model.threshold_source === "default" ? "warning" : "");
  for (const warning of job.warnings) line(warning, "warning");
  return lines;
}

async function follow(job) {
  $("training").hidden = false;
  $("outcome").replaceChildren();
  $("cancel").hidden = false;
  $("cancel").onclick = () => api("DELETE", `/api/jobs/${job.id}`).catch((e) => show(e.message));
  while (job.state === "queued" || job.state === "running") {
    $("progress").value = job.progress;
    $("job-status").textContent = `${Math.round(100 * job.progress)}%: ${job.stage}`;
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await api("GET", `/api/jobs/${job.id}`);
  }
  $("train").disabled = false;
  $("cancel").hidden = true;
  if (job.state === "cancelled") {
    $("job-status").textContent = "Training cancelled; the model was not changed.";
    return;
  }
  if (job.state === "failed") {
    $("job-status").textContent = "Training failed.";
    show(job.error);
    return;
  }
  $("progress").value = 1;
  const model = job.result;
  $("job-status").innerHTML = "";
  $("job-status").append(`Saved model ${model.name} (${model.speakers.join(", ")}). `);
  const link = document.createElement("a");
  link.href = "#identify"; link.id = "use-model"; link.textContent = "Identify with it →";
  $("job-status").append(link);
  $("outcome").replaceChildren(...outcome(job));
  await loadModels(model.name);
  refreshEnrolment();
}

function setUpEnrol() {
  recordButton($("enrol-record"), $("enrol-timer"), () => MAX_TAKE_S, addTake, { ready: speakerNamed });
  $("enrol-files").addEventListener("change", async () => {
    const files = [...$("enrol-files").files];
    $("enrol-files").value = "";
    await addFiles(files);
  });
  const area = $("enrol-area");
  area.addEventListener("dragover", (e) => { e.preventDefault(); area.classList.add("over"); });
  area.addEventListener("dragleave", (e) => { if (!area.contains(e.relatedTarget)) area.classList.remove("over"); });
  area.addEventListener("drop", (e) => {
    e.preventDefault(); area.classList.remove("over");
    addFiles([...e.dataTransfer.files]);
  });
  $("enrol-model").addEventListener("change", refreshEnrolment);
  $("train").addEventListener("click", async () => {
    $("train").disabled = true;
    try {
      const body = JSON.stringify({
        epochs: Number($("epochs").value), force: $("force").checked, architecture: $("architecture").value,
      });
      const response = await fetch(path(enrolModel(), "train"), {
        method: "POST", body, headers: xsrf({ "content-type": "application/json" }),
      });
      const job = await response.json();
      if (!response.ok) throw new Error(job.detail);
      show("");
      await follow(job);
    } catch (error) {
      show(error.message);
      $("train").disabled = false;
    }
  });
}

// --- pages ------------------------------------------------------------------------------------------

function route() {
  const page = location.hash === "#enrol" ? "enrol" : "identify";
  for (const name of ["identify", "enrol"]) {
    $(name).hidden = name !== page;
    $(`tab-${name}`).classList.toggle("active", name === page);
  }
  if (page === "enrol") refreshEnrolment();
}

window.addEventListener("hashchange", route);
setUpIdentify();
setUpEnrol();
route();
loadModels().catch((error) => show(error.message));
