// Training in the browser: the Train page's form (show the chosen model's settings) and a run's page (poll
// GET /api/trainings/{id}/, draw the curves as they come in, Cancel). No library: the charts are plain SVG.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#393b79", "#637939"];

  // ---- the Train page -----------------------------------------------------------------------------------------
  const form = $("train-form");
  if (form) {
    const show = () => {
      const model = (form.querySelector("input[name=model]:checked") || {}).value;
      form.querySelectorAll("fieldset.params").forEach((fs) => { fs.hidden = fs.dataset.model !== model; });
      const chorales = (form.querySelector("input[name=source]:checked") || {}).value === "chorales";
      $("files").disabled = chorales;
    };
    form.addEventListener("change", show);
    form.addEventListener("submit", () => { $("start").disabled = true; $("start").textContent = "Uploading…"; });
    show();
  }

  // ---- a run's page -------------------------------------------------------------------------------------------
  const box = $("training");
  if (!box) return;
  const csrf = box.querySelector("[name=csrfmiddlewaretoken]").value;
  const FINISHED = ["done", "failed", "cancelled"];

  function niceTime(seconds) {
    if (seconds === null || seconds === undefined) return "";
    if (seconds < 60) return "· about " + Math.max(1, Math.round(seconds)) + " s left";
    return "· about " + Math.round(seconds / 60) + " min left";
  }

  // DeepComposer's words for the GAN's two losses (the engine calls its discriminator a critic: WGAN-GP)
  const LOSS_NAMES = {critic_loss: "discriminator loss", generator_loss: "generator loss", train_loss: "training loss",
                      valid_loss: "validation loss"};
  function lossName(key) { return LOSS_NAMES[key] || key.replace(/_/g, " "); }
  // a tick label: at most 3 significant digits and no trailing zeros ("-0.05", not "-0.0500")
  function tick(v) { return Math.abs(v) < 1e-12 ? "0" : String(Number(v.toPrecision(3))); }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (lo === Infinity) return [0, 1];
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }

  // lines: [{name, points: [[x, y]...], dashed}]; draws axes, the lines and a legend
  function drawChart(svg, legend, lines, xMax) {
    const W = 640, H = 300, L = 56, R = 12, T = 12, B = 36;
    const ys = lines.flatMap((l) => l.points.map((p) => p[1]));
    const [y0, y1] = extent(ys);
    const x1 = Math.max(1, xMax);
    const sx = (x) => L + (W - L - R) * x / x1, sy = (y) => T + (H - T - B) * (1 - (y - y0) / (y1 - y0));
    const ns = "http://www.w3.org/2000/svg";
    svg.textContent = "";
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    };
    el("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999"});
    el("line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#999"});
    for (let i = 0; i <= 4; i++) {
      const y = y0 + (y1 - y0) * i / 4;
      el("text", {x: L - 6, y: sy(y) + 4, "text-anchor": "end"}, tick(y));
      el("line", {x1: L, y1: sy(y), x2: W - R, y2: sy(y), stroke: "#eee"});
      const x = Math.round(x1 * i / 4);
      el("text", {x: sx(x), y: H - B + 16, "text-anchor": "middle"}, String(x));
    }
    el("text", {x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle"}, "step");
    legend.textContent = "";
    lines.forEach((line, i) => {
      const color = line.color || COLORS[i % COLORS.length];
      const pts = line.points.filter((p) => p[1] !== null && Number.isFinite(p[1]));
      if (!pts.length) return;
      const d = pts.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
      el("polyline", {points: pts.length > 1 ? d : d + " " + (sx(pts[0][0]) + 3).toFixed(1) + "," + sy(pts[0][1]).toFixed(1),
                      fill: "none", stroke: color, "stroke-width": line.dashed ? 1.5 : 2,
                      "stroke-dasharray": line.dashed ? "6 4" : "", "data-series": line.name});
      if (!line.dashed) pts.forEach((p) => el("circle", {cx: sx(p[0]), cy: sy(p[1]), r: pts.length > 40 ? 1.2 : 2.5, fill: color}));
      const key = document.createElement("span");
      key.style.setProperty("--c", color);
      if (line.dashed) key.className = "dashed";  // the data's value: a dashed key, as its line
      key.textContent = line.name;
      legend.appendChild(key);
    });
  }

  function render(body) {
    $("status").textContent = body.status;
    $("status").className = "badge " + body.status;
    $("steps").textContent = body.steps_done + " of " + body.steps_total + " steps"
      + (body.cancel_requested && body.status === "running" ? " (stopping…)" : "");
    $("time-left").textContent = body.status === "running" ? niceTime(body.seconds_left) : "";
    $("progress").value = body.progress;
    $("waiting").hidden = !body.waiting_for;  // a queued run says what it waits for
    $("waiting").textContent = body.waiting_for || "";
    $("error").hidden = !body.error;
    $("error").textContent = body.error || "";
    $("cancel").hidden = FINISHED.includes(body.status) || body.cancel_requested;
    if (body.checkpoint) {
      $("done").hidden = false;
      $("use-model").href = box.dataset.studio + "?checkpoint=" + body.checkpoint;
    }
    const m = body.metrics || {step: []};
    const steps = m.step || [];
    const series = (name) => steps.map((s, i) => [s, m[name] ? m[name][i] : null]);
    const lossNames = Object.keys(m).filter((k) => k.endsWith("_loss") && (m[k] || []).some((v) => v !== null));
    const xMax = Math.max(body.steps_total || 1, steps.length ? steps[steps.length - 1] : 1);
    drawChart($("loss-chart"), $("loss-legend"), lossNames.map((name) => ({name: lossName(name), points: series(name)})), xMax);
    // the GAN: one chart per measure ("alto in key rate" -> measure "in key rate"), a line per part, the training
    // set's value of each part dashed
    const measureNames = Object.keys(m).filter((k) => k !== "step" && !k.endsWith("_loss") && !k.startsWith("train set: "));
    if (measureNames.length) {
      $("measures-card").hidden = false;
      const byMeasure = {};
      for (const name of measureNames) {
        const measure = name.split(" ").slice(1).join(" ");
        (byMeasure[measure] = byMeasure[measure] || []).push(name);
      }
      const holder = $("measures-charts");
      for (const [measure, names] of Object.entries(byMeasure)) {
        const id = "measure-" + measure.replace(/[^a-z]+/g, "-");
        let figure = document.getElementById(id);
        if (!figure) {
          figure = document.createElement("figure");
          figure.id = id;
          figure.innerHTML = '<h3></h3><svg class="chart" viewBox="0 0 640 300" role="img"></svg><div class="legend"></div>';
          figure.querySelector("h3").textContent = measure;
          figure.querySelector("svg").setAttribute("aria-label", measure + " of each part");
          holder.appendChild(figure);
        }
        const lines = [];
        names.forEach((name, i) => {
          const color = COLORS[i % COLORS.length];
          lines.push({name: name.split(" ")[0], points: series(name), color});
          const ref = m["train set: " + name];
          const value = ref ? ref.find((v) => v !== null) : undefined;
          if (value !== undefined) lines.push({name: name.split(" ")[0] + " (your data)", points: [[0, value], [xMax, value]], dashed: true, color});
        });
        drawChart(figure.querySelector("svg"), figure.querySelector(".legend"), lines, xMax);
      }
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.api, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
      if (response.ok) {
        const body = await response.json();
        render(body);
        if (FINISHED.includes(body.status)) return;
      }
    } catch (err) { /* the next poll tries again */ }
    window.setTimeout(poll, 1500);
  }

  $("cancel").addEventListener("click", async () => {
    $("cancel").disabled = true;
    const response = await fetch(box.dataset.cancel, {method: "POST", credentials: "same-origin",
                                                      headers: {"X-CSRFToken": csrf, "Accept": "application/json"}});
    const body = await response.json();
    if (!response.ok) { $("error").hidden = false; $("error").textContent = body.error ? body.error.message : "Could not cancel."; }
    else render(body);
    $("cancel").disabled = false;
  });

  render(JSON.parse($("training-body").textContent));
  poll();
})();
