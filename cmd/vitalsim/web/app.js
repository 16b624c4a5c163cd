// vitalsim clinical display: polls /api/display every 200 ms, draws
// SIMULATED waveforms, and covers the screen when the device is not
// suitable for clinical use or its state is unknown.
"use strict";
const POLL_MS = 200;
let last = null;            // last display document
let lastOK = 0;             // when the display server last answered
const $ = (id) => document.getElementById(id);

function showOverlay(mode, title, cause, action, meta) {
  const ov = $("overlay");
  ov.className = mode;
  $("ov-title").textContent = title;
  $("ov-cause").textContent = cause || "";
  $("ov-action").textContent = action || "";
  $("ov-meta").textContent = meta || "";
  ov.hidden = false;
}

function render(d) {
  const v = d.vitals || {};
  $("hr").textContent = v.hr ?? "--";
  $("spo2").textContent = v.spo2 ?? "--";
  $("rr").textContent = v.rr ?? "--";
  $("sys").textContent = v.sys ?? "--";
  $("dia").textContent = v.dia ?? "--";
  $("map").textContent = v.map ?? "--";
  $("temp").textContent = v.temp != null ? v.temp.toFixed(1) : "--";
  $("device").textContent = d.device || "device";
  $("state").textContent = d.state || "unknown";
  $("statusnote").textContent = d.mode === "degraded" ? "— " + (d.cause || "") : "";
  $("status").className = "status " + d.mode;
  if (d.mode === "ok" || d.mode === "degraded") {
    $("overlay").hidden = true;
    return;
  }
  const meta = (d.device ? d.device + " · " : "") + (d.since ? "since " + new Date(d.since).toLocaleTimeString() : "");
  showOverlay(d.mode, d.title, d.cause, d.action, meta);
}

async function poll() {
  try {
    const r = await fetch("/api/display", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    last = await r.json();
    lastOK = Date.now();
    render(last);
  } catch (e) {
    if (Date.now() - lastOK > 1000) {
      showOverlay("unreachable", "DISPLAY CONNECTION LOST", "The clinical display cannot reach the monitor application: " + e.message,
        "Do not rely on the values shown. Call biomedical engineering.", "");
    }
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// Waveforms, generated from the simulated heart and respiration rates.
function ecg(phase) { // phase in [0,1) of one beat: P, QRS, T as Gaussians
  const g = (mu, s, a) => a * Math.exp(-((phase - mu) ** 2) / (2 * s * s));
  return g(0.18, 0.025, 0.12) - g(0.30, 0.008, 0.12) + g(0.32, 0.01, 1.0) - g(0.345, 0.01, 0.25) + g(0.58, 0.045, 0.3);
}
function pleth(phase) {
  const g = (mu, s, a) => a * Math.exp(-((phase - mu) ** 2) / (2 * s * s));
  return g(0.38, 0.08, 1.0) + g(0.62, 0.07, 0.35);
}
const traces = [
  { id: "ecg", color: "#32ff6a", f: ecg, rate: () => (last?.vitals?.hr || 72) / 60, gain: 0.8 },
  { id: "pleth", color: "#3fd0ff", f: pleth, rate: () => (last?.vitals?.hr || 72) / 60, gain: 0.8 },
  { id: "resp", color: "#ffe04a", f: (p) => 0.5 - 0.5 * Math.cos(2 * Math.PI * p), rate: () => (last?.vitals?.rr || 14) / 60, gain: 0.8 },
];
for (const t of traces) { t.c = $(t.id).getContext("2d"); t.x = 0; t.phase = 0; t.prevY = null; }
let prev = performance.now();
function draw(now) {
  const dt = Math.min((now - prev) / 1000, 0.1);
  prev = now;
  const pxPerSec = 150;
  for (const t of traces) {
    const { c } = t, W = c.canvas.width, H = c.canvas.height;
    const steps = Math.max(1, Math.round(dt * pxPerSec));
    for (let i = 0; i < steps; i++) {
      t.phase = (t.phase + t.rate() / pxPerSec) % 1;
      const y = H - 10 - t.f(t.phase) * (H - 20) * t.gain;
      c.fillStyle = "#050505";
      c.fillRect(t.x, 0, 12, H);
      c.strokeStyle = t.color;
      c.lineWidth = 2;
      c.beginPath();
      c.moveTo(t.x - 1, t.prevY ?? y);
      c.lineTo(t.x, y);
      c.stroke();
      t.prevY = y;
      t.x = (t.x + 1) % W;
      if (t.x === 0) t.prevY = null;
    }
  }
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);
poll();
