// DeepASMR web page: plain JS, no external assets. Talks to the same server's /v1 API.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { uploadKey: null, uploadId: null, recorded: null, recordedId: null, urls: {} };

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "muted";
  document.body.dataset.state = isError ? "error" : (text === "done" ? "done" : "busy");
}

function headers(extra = {}) {
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem("deepasmr-api-key", key);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) { /* not JSON */ }
    if (response.status === 429) {
      message += ` (retry after ${response.headers.get("Retry-After") || "a few"} s)`;
    }
    throw new Error(message);
  }
  return response;
}

function objectUrl(name, blob) {
  if (state.urls[name]) URL.revokeObjectURL(state.urls[name]);
  state.urls[name] = URL.createObjectURL(blob);
  return state.urls[name];
}

function source() {
  return document.querySelector("input[name=source]:checked").value;
}

function showSource() {
  for (const name of ["upload", "record", "saved"]) $(`source-${name}`).hidden = source() !== name;
  if (source() === "saved") loadVoices();
}

async function loadVoices() {
  try {
    const body = await (await api("/v1/voices")).json();
    const select = $("saved-voice");
    const keep = select.value;
    select.innerHTML = "";
    for (const v of body.data) {
      const option = document.createElement("option");
      option.value = v.id;
      option.textContent = v.kind === "uploaded" ? `${v.name} (${v.duration_s} s)` : `${v.id} (${v.kind})`;
      select.appendChild(option);
    }
    if (keep) select.value = keep;
  } catch (err) {
    setStatus(`could not list voices: ${err.message}`, true);
  }
}

// -- recording: raw PCM from the microphone, encoded as 16-bit WAV here (no codec needed on the server) -------
let recorder = null;

function encodeWav(chunks, rate) {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const view = new DataView(new ArrayBuffer(44 + 2 * n));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * n, true);
  let at = 44;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++, at += 2) {
      const s = Math.max(-1, Math.min(1, c[i]));
      view.setInt16(at, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
  }
  return new Blob([view], { type: "audio/wav" });
}

async function toggleRecording() {
  if (recorder) {
    const { ctx, stream, node, chunks } = recorder;
    recorder = null;
    node.disconnect();
    stream.getTracks().forEach((t) => t.stop());
    const blob = encodeWav(chunks, ctx.sampleRate);
    await ctx.close();
    state.recorded = new File([blob], "recording.wav", { type: "audio/wav" });
    state.recordedId = null;
    $("prompt-audio").src = objectUrl("prompt", blob);
    $("prompt-audio").hidden = false;
    $("record").textContent = "Record again";
    $("record-state").textContent = `${(blob.size / 2 / ctx.sampleRate).toFixed(1)} s recorded`;
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const ctx = new AudioContext();
    const input = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(4096, 1, 1);
    const silent = ctx.createGain();
    silent.gain.value = 0;
    const chunks = [];
    node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    input.connect(node); node.connect(silent); silent.connect(ctx.destination);
    recorder = { ctx, stream, node, chunks };
    $("record").textContent = "Stop recording";
    $("record-state").textContent = "recording…";
  } catch (err) {
    setStatus(`microphone: ${err.message}`, true);
  }
}

// -- speaking -------------------------------------------------------------------------------------------------
async function register(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("name", file.name);
  const transcript = $("transcript").value.trim();
  if (transcript) form.append("transcript", transcript);
  const voice = await (await api("/v1/voices", { method: "POST", body: form })).json();
  return voice.id;
}

async function voiceId() {
  const transcript = $("transcript").value.trim();
  if (source() === "saved") {
    if (!$("saved-voice").value) throw new Error("choose a saved voice");
    return $("saved-voice").value;
  }
  if (source() === "record") {
    if (!state.recorded) throw new Error("record a clip first");
    if (!state.recordedId) state.recordedId = await register(state.recorded);
    return state.recordedId;
  }
  const file = $("clip").files[0];
  if (!file) throw new Error("choose a clip to upload first");
  const key = `${file.name}|${file.size}|${file.lastModified}|${transcript}`;
  if (state.uploadKey !== key) {
    setStatus("uploading the clip…");
    state.uploadId = await register(file);
    state.uploadKey = key;
  }
  return state.uploadId;
}

async function showPlot(img, response) {
  img.src = objectUrl(img.id, await response.blob());
}

async function speak() {
  const button = $("speak");
  button.disabled = true;
  try {
    const id = await voiceId();
    const format = $("format").value;
    const request = { model: "deepasmr", input: $("text").value, voice: id, style: $("style").value,
                      response_format: format };
    if ($("seed").value !== "") request.seed = parseInt($("seed").value, 10);
    if ($("steps").value !== "") request.steps = parseInt($("steps").value, 10);
    if ($("candidates").value !== "") request.candidates = parseInt($("candidates").value, 10);
    if ($("phone-guidance").value !== "") request.phone_guidance = parseFloat($("phone-guidance").value);
    setStatus("speaking…");
    const started = performance.now();
    const response = await api("/v1/audio/speech", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
    const blob = await response.blob();
    const url = objectUrl("result", blob);
    const audio = $("result-audio");
    audio.src = url;
    $("download").href = url;
    $("download").download = `deepasmr_${request.style}.${format}`;
    $("result-info").textContent = `${response.headers.get("X-DeepASMR-Task") || ""} · ` +
      `${response.headers.get("X-DeepASMR-Seconds") || "?"} s of audio in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s · ${(blob.size / 1024).toFixed(1)} KiB · ` +
      `phone guidance ${response.headers.get("X-DeepASMR-Phone-Guidance") || "?"}`;
    $("result").hidden = false;
    setStatus("drawing spectrograms…");
    const form = new FormData();
    form.append("file", blob, `output.${format}`);
    const [promptPlot, outputPlot] = await Promise.all([
      api(`/v1/voices/${encodeURIComponent(id)}/plot.png`),
      api("/v1/analyze", { method: "POST", body: form }),
    ]);
    await Promise.all([showPlot($("prompt-plot"), promptPlot), showPlot($("output-plot"), outputPlot)]);
    setStatus("done");
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    button.disabled = false;
  }
}

function init() {
  $("api-key").value = localStorage.getItem("deepasmr-api-key") || "";
  document.querySelectorAll("input[name=source]").forEach((r) => r.addEventListener("change", showSource));
  $("clip").addEventListener("change", () => {
    const file = $("clip").files[0];
    if (!file) return;
    $("prompt-audio").src = objectUrl("prompt", file);
    $("prompt-audio").hidden = false;
  });
  $("record").addEventListener("click", toggleRecording);
  $("refresh-voices").addEventListener("click", loadVoices);
  $("speak").addEventListener("click", speak);
  document.body.dataset.state = "ready";
}

init();
