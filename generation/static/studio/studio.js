/* The studio page (generation/templates/generation/studio.html): no build step, no library.
 *
 * Music is edited as the API's notes JSON: {tempo, time_signature: [n, d], tracks: [{name, program, is_drum,
 * notes: [[pitch, start step, length in steps, velocity]]}]}, a step being a sixteenth note. The server turns it
 * into MIDI (POST /api/generate/ with `notes`, POST /api/studio/save/) and MIDI into it (POST /api/studio/notes/,
 * GET /api/jobs/{id}/notes/), so this script never reads or writes MIDI itself.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("studio-config").textContent);
  const $ = (id) => document.getElementById(id);
  const root = $("studio");
  root.hidden = false;
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const COLOURS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0b7285", "#a61e4d", "#5c940d"];
  const LOW = 24, HIGH = 108;  // pitches shown: C1..C8
  const ROW = 9;               // pixels per pitch row

  // ---- state ----------------------------------------------------------------------------------------------
  let song = emptySong();
  let undoStack = [], redoStack = [];  // {song (JSON), current, edited}: edits and generations, Ctrl+Z / Ctrl+Shift+Z
  // {key, jobId, song (null until loaded), notesUrl, audioUrl, midiUrl, model, fromKey, editedFromKey, earlier}
  // named "v<position>" in the list (versionLabel), earlier visits' versions first, so a reload names them alike
  let versions = [];
  let current = null;          // the version shown (its key), null: not from a version
  let edited = false;          // the piano roll differs from the current version's music
  let selected = null;         // {track, index}
  let cursor = {step: 0, pitch: 60};
  let tool = "draw";
  let stepWidth = 14;

  function emptySong() {
    return {tempo: Number($("tempo").value) || 100, time_signature: meter(), key: $("key").value || null,
            tracks: [{name: "melody", program: 0, is_drum: false, notes: []}]};
  }
  function meter() { return $("meter").value.split("/").map(Number); }
  function stepsPerBar(s) { return Math.max(1, Math.round(s.time_signature[0] * 16 / s.time_signature[1])); }
  function stepSeconds(s) { return 60 / s.tempo / 4; }
  function songEnd(s) {
    let end = 0;
    for (const t of s.tracks) for (const n of t.notes) end = Math.max(end, n[1] + n[2]);
    return end;
  }
  function noteCount(s) { return s.tracks.reduce((a, t) => a + t.notes.length, 0); }
  function activeTrack() {
    const chosen = Number($("track").value);
    if (song.tracks[chosen] && !song.tracks[chosen].is_drum) return chosen;
    const i = song.tracks.findIndex((t) => !t.is_drum);
    return i < 0 ? 0 : i;
  }
  function renderTrackChoice() {
    const sel = $("track");
    const wanted = song.tracks.map((t, i) => (t.name || "track " + (i + 1)) + (t.is_drum ? " (drums)" : "")).join("|");
    if (sel.dataset.tracks === wanted) return;
    const keep = sel.value;
    sel.textContent = "";
    song.tracks.forEach((t, i) => {
      const o = document.createElement("option");
      o.value = String(i);
      o.textContent = (t.name || "track " + (i + 1)) + (t.is_drum ? " (drums)" : "");
      o.disabled = t.is_drum;
      o.style.color = COLOURS[i % COLOURS.length];
      sel.appendChild(o);
    });
    sel.value = keep !== "" && song.tracks[Number(keep)] ? keep : String(activeTrackFallback());
    sel.dataset.tracks = wanted;
  }
  function activeTrackFallback() { const i = song.tracks.findIndex((t) => !t.is_drum); return i < 0 ? 0 : i; }
  function state() { return {song: JSON.stringify(song), current, edited}; }
  function snapshot() {
    undoStack.push(state());
    if (undoStack.length > 200) undoStack.shift();
    redoStack = [];
    updateUndoButtons();
  }
  function restore(from, to) {
    if (!from.length) return;
    to.push(state());
    const st = from.pop();
    stopSong();
    song = JSON.parse(st.song); current = st.current; edited = st.edited; selected = null;
    showTempoAndKey();
    drawRoll(); updateVersionLabel(); renderHistory(); updateUndoButtons();
  }
  function undo() { restore(undoStack, redoStack); }
  function redo() { restore(redoStack, undoStack); }
  function updateUndoButtons() { $("undo").disabled = !undoStack.length; $("redo").disabled = !redoStack.length; }
  function changed() { edited = true; drawRoll(); updateVersionLabel(); }

  // ---- HTTP -------------------------------------------------------------------------------------------------
  async function api(method, url, form) {
    const response = await fetch(url, {method, body: form, credentials: "same-origin",
                                       headers: {"X-CSRFToken": csrf, "Accept": "application/json"}});
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = (body && body.error && body.error.message) || ("The server answered " + response.status + ".");
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }
  const STATUS_LINES = ["rec-status", "generate-status", "save-status", "checkpoint-status"];
  function say(id, text, isError) {
    const el = $(id);
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    if (!isError) {  // something worked: an older error elsewhere no longer describes the page
      for (const other of STATUS_LINES) {
        const o = $(other);
        if (other !== id && o.classList.contains("error")) { o.textContent = ""; o.classList.remove("error"); }
      }
    }
  }

  // ---- sound (previews; generated pieces play their rendered MP3) -----------------------------------------
  let audioCtx = null;
  function ctx() {
    if (!audioCtx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      audioCtx = AC ? new AC() : null;
    }
    if (audioCtx && audioCtx.state === "suspended") audioCtx.resume();
    return audioCtx;
  }
  function tone(pitch, when, seconds, gain) {
    const ac = ctx();
    if (!ac) return null;
    const osc = ac.createOscillator(), amp = ac.createGain();
    osc.type = "triangle";
    osc.frequency.value = 440 * Math.pow(2, (pitch - 69) / 12);
    const t0 = Math.max(ac.currentTime, when || ac.currentTime);
    amp.gain.setValueAtTime(0, t0);
    amp.gain.linearRampToValueAtTime(gain || 0.2, t0 + 0.01);
    osc.connect(amp).connect(ac.destination);
    osc.start(t0);  // start before any stop(): stop() on a source not started yet throws InvalidStateError
    if (seconds) {
      amp.gain.setTargetAtTime(0, t0 + seconds, 0.05);
      osc.stop(t0 + seconds + 0.4);
    }
    return {osc, amp};
  }
  function release(voice) {
    if (!voice || !audioCtx) return;
    voice.amp.gain.cancelScheduledValues(audioCtx.currentTime);
    voice.amp.gain.setTargetAtTime(0, audioCtx.currentTime, 0.05);
    voice.osc.stop(audioCtx.currentTime + 0.4);
  }
  function click(when, accent) {
    const ac = ctx();
    if (!ac) return;
    const osc = ac.createOscillator(), amp = ac.createGain();
    osc.frequency.value = accent ? 1760 : 1320;
    amp.gain.setValueAtTime(0.25, when);
    amp.gain.exponentialRampToValueAtTime(0.001, when + 0.05);
    osc.connect(amp).connect(ac.destination);
    osc.start(when);
    osc.stop(when + 0.06);
  }

  // One synthesized playback at a time: the piano roll's (▶ Play, with a playhead) or a version's (its ▶ button).
  let playback = null;         // {start, total, timer, button, onRoll}
  function playNotes(s, button, onRoll) {
    const ac = ctx();
    if (!ac || !noteCount(s)) return;
    const start = ac.currentTime + 0.1, sec = stepSeconds(s);
    for (const t of s.tracks) {
      if (t.is_drum) continue;
      for (const n of t.notes) tone(n[0], start + n[1] * sec, n[2] * sec, 0.12 * n[3] / 100);
    }
    const total = songEnd(s) * sec;
    playback = {start, total, timer: null, button, label: button.textContent, onRoll};
    button.textContent = "■ Stop";
    const tick = () => {
      if (!playback) return;
      if (onRoll) drawRoll((ac.currentTime - playback.start) / sec);
      if (ac.currentTime - playback.start > total + 0.2) stopSong();
      else playback.timer = requestAnimationFrame(tick);
    };
    tick();
  }
  function playSong() {
    const wasRoll = playback && playback.onRoll;
    stopSong();
    if (!wasRoll) playNotes(song, $("play-roll"), true);
  }
  function stopSong() {
    if (!playback) return;
    if (playback.timer) cancelAnimationFrame(playback.timer);
    playback.button.textContent = playback.label;
    const onRoll = playback.onRoll;
    playback = null;
    if (audioCtx) { audioCtx.close(); audioCtx = null; }  // silences every scheduled note
    if (onRoll) drawRoll();
  }

  // ---- keyboard input, recording --------------------------------------------------------------------------
  const KEYS = "awsedftgyhujkolp;".split("");  // C D E F G A B C D E ... from the current octave's C
  let octave = 4;
  const held = new Map();    // pitch -> {voice, startStep}
  let recording = null;      // {start (ms), stepMs, metronome timer, maxSteps}

  function buildKeyboard() {
    const kb = $("keyboard");
    kb.textContent = "";
    const black = new Set([1, 3, 6, 8, 10]);
    for (let p = 48; p <= 76; p++) {
      const key = document.createElement("button");
      key.type = "button";
      key.className = "key " + (black.has(p % 12) ? "black" : "white");
      key.dataset.pitch = String(p);
      key.setAttribute("aria-label", noteName(p));
      key.addEventListener("pointerdown", (e) => { e.preventDefault(); key.setPointerCapture(e.pointerId); noteOn(p); });
      key.addEventListener("pointerup", () => noteOff(p));
      key.addEventListener("pointercancel", () => noteOff(p));
      key.addEventListener("keydown", (e) => { if ((e.key === " " || e.key === "Enter") && !e.repeat) { e.preventDefault(); noteOn(p); } });
      key.addEventListener("keyup", (e) => { if (e.key === " " || e.key === "Enter") noteOff(p); });
      kb.appendChild(key);
    }
  }
  function noteName(p) { return ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"][p % 12] + (Math.floor(p / 12) - 1); }
  function keyEl(p) { return document.querySelector('.key[data-pitch="' + p + '"]'); }

  function currentStep() {
    return Math.round((performance.now() - recording.start) / recording.stepMs);
  }
  function noteOn(pitch, velocity) {
    if (held.has(pitch)) return;
    const entry = {voice: tone(pitch, 0, 0, 0.2), startStep: null, velocity: velocity || 90};
    if (recording && performance.now() >= recording.start) entry.startStep = Math.max(0, currentStep());
    held.set(pitch, entry);
    const el = keyEl(pitch);
    if (el) el.classList.add("down");
  }
  function noteOff(pitch) {
    const entry = held.get(pitch);
    if (!entry) return;
    held.delete(pitch);
    release(entry.voice);
    const el = keyEl(pitch);
    if (el) el.classList.remove("down");
    if (recording && entry.startStep !== null && entry.startStep < recording.maxSteps) {
      const end = Math.min(recording.maxSteps, Math.max(entry.startStep + 1, currentStep()));
      song.tracks[activeTrack()].notes.push([pitch, entry.startStep, end - entry.startStep, entry.velocity]);
      changed();
    }
  }
  function startRecording() {
    stopSong();
    const tempo = Math.min(240, Math.max(40, Number($("tempo").value) || 100));
    snapshot();
    if (!noteCount(song)) song = emptySong();
    song.tempo = tempo;
    song.time_signature = meter();
    const beatMs = 60000 / tempo, stepMs = beatMs / 4;
    const beatsPerBar = Math.round(stepsPerBar(song) / 4) || 4;
    const ac = ctx();
    const countInMs = beatsPerBar * beatMs;
    const startAt = performance.now() + countInMs + 100;
    const offset = songEnd(song) ? Math.ceil(songEnd(song) / stepsPerBar(song)) * stepsPerBar(song) : 0;
    recording = {start: startAt - offset * stepMs, stepMs, maxSteps: config.maxBars * stepsPerBar(song), timer: null};
    // clicks: the count-in always, then every beat while the metronome is on
    let beat = 0;
    const t0 = ac ? ac.currentTime + 0.1 : 0;
    const schedule = () => {
      if (!recording) return;
      const elapsed = performance.now() - (startAt - countInMs);
      while (ac && beat * beatMs < elapsed + 200) {
        if (beat < beatsPerBar || $("metronome").checked) click(t0 + beat * beatMs / 1000, beat % beatsPerBar === 0);
        beat++;
      }
      const step = Math.round((performance.now() - recording.start) / stepMs);
      if (performance.now() < startAt) say("rec-status", "Count-in… " + (beatsPerBar - Math.floor((performance.now() - (startAt - countInMs)) / beatMs)));
      else say("rec-status", "Recording bar " + (Math.floor(step / stepsPerBar(song)) + 1) + " of " + config.maxBars);
      if (step >= recording.maxSteps) stopRecording();
    };
    recording.timer = setInterval(schedule, 50);
    schedule();
    $("record").textContent = "■ Stop";
    $("record").setAttribute("aria-pressed", "true");
  }
  function stopRecording() {
    if (!recording) return;
    for (const pitch of Array.from(held.keys())) noteOff(pitch);
    clearInterval(recording.timer);
    recording = null;
    $("record").textContent = "● Record";
    $("record").setAttribute("aria-pressed", "false");
    say("rec-status", noteCount(song) + " notes.");
    drawRoll();
  }

  function typingInField(e) {
    const t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA" || t.isContentEditable
                 || t.id === "roll");
  }
  document.addEventListener("keydown", (e) => {
    if (typingInField(e) || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    const k = e.key.toLowerCase();
    if (k === "z") { octave = Math.max(1, octave - 1); say("rec-status", "Octave " + octave); return; }
    if (k === "x") { octave = Math.min(7, octave + 1); say("rec-status", "Octave " + octave); return; }
    const i = KEYS.indexOf(k);
    if (i >= 0) { e.preventDefault(); noteOn(12 * (octave + 1) + i); }
  });
  document.addEventListener("keyup", (e) => {
    const i = KEYS.indexOf(e.key.toLowerCase());
    if (i >= 0) noteOff(12 * (octave + 1) + i);
  });
  function connectMidi() {
    navigator.requestMIDIAccess().then((access) => {
      const hook = () => {
        let n = 0;
        access.inputs.forEach((input) => {
          n++;
          input.onmidimessage = (m) => {
            const [status, pitch, velocity] = m.data;
            const kind = status & 0xf0;
            if (kind === 0x90 && velocity > 0) noteOn(pitch, velocity);
            else if (kind === 0x80 || kind === 0x90) noteOff(pitch);
          };
        });
        $("midi-status").textContent = n ? " (" + n + " connected)" : "";
      };
      access.onstatechange = hook;
      hook();
      $("midi-connect").hidden = true;
    }).catch(() => { say("rec-status", "The browser did not allow MIDI input.", true); });
  }
  if (navigator.requestMIDIAccess) {  // asked on a click: browsers prompt for MIDI access
    $("midi-connect").hidden = false;
    $("midi-connect").addEventListener("click", connectMidi);
  }

  // ---- piano roll -------------------------------------------------------------------------------------------
  const canvas = $("roll");
  function rollSize() {
    const steps = Math.max(songEnd(song) + stepsPerBar(song) * 2, stepsPerBar(song) * 8);
    return {steps, width: 36 + steps * stepWidth, height: (HIGH - LOW + 1) * ROW};
  }
  function noteAt(step, pitch) {
    for (let ti = song.tracks.length - 1; ti >= 0; ti--) {
      const notes = song.tracks[ti].notes;
      for (let i = notes.length - 1; i >= 0; i--) {
        const n = notes[i];
        if (n[0] === pitch && n[1] <= step && step < n[1] + n[2]) return {track: ti, index: i};
      }
    }
    return null;
  }
  function drawRollOn(cv, s, opts) {
    opts = opts || {};
    const sw = opts.stepWidth || stepWidth, row = opts.row || ROW, low = opts.low || LOW, high = opts.high || HIGH;
    const steps = Math.max(songEnd(s) + (opts.pad === false ? 0 : stepsPerBar(s) * 2), stepsPerBar(s) * (opts.minBars || 8));
    const left = opts.left === undefined ? 36 : opts.left;
    const dpr = window.devicePixelRatio || 1;
    const w = left + steps * sw, h = (high - low + 1) * row;
    cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
    cv.style.width = w + "px"; cv.style.height = h + "px";
    const g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
    for (let p = low; p <= high; p++) {
      const y = (high - p) * row;
      if ([1, 3, 6, 8, 10].includes(p % 12)) { g.fillStyle = "#f1f3f5"; g.fillRect(left, y, w - left, row); }
      if (p % 12 === 0 && left) { g.fillStyle = "#495057"; g.font = "9px system-ui, sans-serif"; g.fillText("C" + (p / 12 - 1), 2, y + row - 1); }
    }
    const bar = stepsPerBar(s);
    if (opts.bars) {  // the bars chosen for "only bars": shaded
      g.fillStyle = "rgba(250, 176, 5, 0.18)";
      g.fillRect(left + opts.bars.from * sw, 0, (opts.bars.to - opts.bars.from) * sw, h);
    }
    for (let st = 0; st <= steps; st++) {
      g.fillStyle = st % bar === 0 ? "#868e96" : (st % 4 === 0 ? "#dee2e6" : "#f8f9fa");
      if (st % 4 === 0 || sw >= 10) g.fillRect(left + st * sw, 0, 1, h);
    }
    s.tracks.forEach((t, ti) => {
      g.fillStyle = COLOURS[ti % COLOURS.length];
      t.notes.forEach((n, i) => {
        if (n[0] < low || n[0] > high) return;
        const x = left + n[1] * sw, y = (high - n[0]) * row;
        g.globalAlpha = 0.35 + 0.65 * n[3] / 127;
        g.fillRect(x + 1, y + 1, Math.max(2, n[2] * sw - 2), row - 2);
        g.globalAlpha = 1;
        if (opts.selected && opts.selected.track === ti && opts.selected.index === i) {
          g.strokeStyle = "#000"; g.lineWidth = 2; g.strokeRect(x + 1, y + 1, Math.max(2, n[2] * sw - 2), row - 2);
        }
      });
    });
    if (opts.cursor) {
      g.strokeStyle = "#f08c00"; g.lineWidth = 1.5;
      g.strokeRect(left + opts.cursor.step * sw + 0.5, (high - opts.cursor.pitch) * row + 0.5, sw - 1, row - 1);
    }
    if (opts.playhead !== undefined && opts.playhead !== null) {
      g.fillStyle = "#e03131"; g.fillRect(left + opts.playhead * sw, 0, 2, h);
    }
  }
  function drawRoll(playhead) {
    drawRollOn(canvas, song, {selected, cursor: document.activeElement === canvas ? cursor : null, playhead,
                              bars: chosenBars()});
    renderTrackChoice();
    const legend = $("legend");
    legend.textContent = "";
    song.tracks.forEach((t, ti) => {
      if (!t.notes.length) return;
      const item = document.createElement("span");
      item.innerHTML = '<span class="swatch"></span>';
      item.firstChild.style.background = COLOURS[ti % COLOURS.length];
      item.appendChild(document.createTextNode((t.name || "track " + (ti + 1)) + (t.is_drum ? " (drums)" : "") + " · " + t.notes.length + " notes"));
      legend.appendChild(item);
    });
  }
  function cellOf(e) {
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    return {step: Math.floor((x - 36) / stepWidth), pitch: HIGH - Math.floor(y / ROW), x};
  }
  let drag = null;
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("pointerdown", (e) => {
    const c = cellOf(e);
    if (tool === "scroll" || c.step < 0 || c.pitch < LOW || c.pitch > HIGH) return;
    canvas.focus({preventScroll: true});
    if (e.shiftKey) {  // Shift+drag selects whole bars for "only bars"
      canvas.setPointerCapture(e.pointerId);
      const bar = Math.floor(c.step / stepsPerBar(song)) + 1;
      drag = {mode: "bars", first: bar};
      selectBars(bar, bar);
      return;
    }
    const hit = noteAt(c.step, c.pitch);
    cursor = {step: c.step, pitch: c.pitch};
    if (tool === "erase" || e.button === 2) {
      if (hit) { snapshot(); song.tracks[hit.track].notes.splice(hit.index, 1); selected = null; changed(); }
      return;
    }
    canvas.setPointerCapture(e.pointerId);
    if (hit) {
      const n = song.tracks[hit.track].notes[hit.index];
      const rightEdge = 36 + (n[1] + n[2]) * stepWidth;
      selected = hit;
      drag = {mode: rightEdge - c.x < Math.max(6, stepWidth * 0.35) ? "resize" : "move", hit, origin: c,
              note: n.slice(), snap: false};
    } else {
      snapshot();
      const len = Number($("note-length").value) || 4;
      const notes = song.tracks[activeTrack()].notes;
      notes.push([c.pitch, c.step, len, 90]);
      selected = {track: activeTrack(), index: notes.length - 1};
      drag = {mode: "resize", hit: selected, origin: c, note: notes[notes.length - 1].slice(), snap: true};
      tone(c.pitch, 0, 0.25, 0.15);
      changed();
    }
    drawRoll();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const c = cellOf(e);
    if (drag.mode === "bars") {
      const bar = Math.max(1, Math.floor(Math.max(0, c.step) / stepsPerBar(song)) + 1);
      selectBars(Math.min(drag.first, bar), Math.max(drag.first, bar));
      return;
    }
    const n = song.tracks[drag.hit.track].notes[drag.hit.index];
    if (!n) return;
    const dStep = c.step - drag.origin.step, dPitch = c.pitch - drag.origin.pitch;
    if (!dStep && !dPitch) return;
    if (!drag.snap) { snapshot(); drag.snap = true; }
    if (drag.mode === "move") {
      n[1] = Math.max(0, Math.min(config.maxSteps - n[2], drag.note[1] + dStep));
      n[0] = Math.max(LOW, Math.min(HIGH, drag.note[0] + dPitch));
    } else {
      n[2] = Math.max(1, Math.min(config.maxSteps - n[1], drag.note[2] + dStep));
    }
    changed();
  });
  const endDrag = () => { drag = null; };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("focus", () => drawRoll());
  canvas.addEventListener("blur", () => drawRoll());
  canvas.addEventListener("keydown", (e) => {
    const keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Enter", " ", "Delete", "Backspace", "Escape"];
    if (!keys.includes(e.key)) return;
    e.preventDefault();
    const dx = e.key === "ArrowLeft" ? -1 : e.key === "ArrowRight" ? 1 : 0;
    const dy = e.key === "ArrowUp" ? 1 : e.key === "ArrowDown" ? -1 : 0;
    const n = selected && song.tracks[selected.track].notes[selected.index];
    if (e.key === "Escape") { selected = null; }
    else if (n && (e.key === "Delete" || e.key === "Backspace")) {
      snapshot(); song.tracks[selected.track].notes.splice(selected.index, 1); selected = null; changed();
    } else if (n && (dx || dy)) {
      snapshot();
      if (e.shiftKey && dx) n[2] = Math.max(1, Math.min(config.maxSteps - n[1], n[2] + dx));
      else { n[1] = Math.max(0, Math.min(config.maxSteps - n[2], n[1] + dx)); n[0] = Math.max(LOW, Math.min(HIGH, n[0] + dy)); }
      cursor = {step: n[1], pitch: n[0]};
      changed();
    } else if (dx || dy) {
      cursor = {step: Math.max(0, cursor.step + dx), pitch: Math.max(LOW, Math.min(HIGH, cursor.pitch + dy))};
    } else if (e.key === "Enter" || e.key === " ") {
      const hit = noteAt(cursor.step, cursor.pitch);
      if (hit) selected = hit;
      else {
        snapshot();
        const notes = song.tracks[activeTrack()].notes;
        notes.push([cursor.pitch, cursor.step, Number($("note-length").value) || 4, 90]);
        selected = {track: activeTrack(), index: notes.length - 1};
        changed();
      }
    }
    drawRoll();
    scrollToCursor();
  });
  function scrollToCursor() {
    const wrap = $("roll-wrap"), x = 36 + cursor.step * stepWidth, y = (HIGH - cursor.pitch) * ROW;
    if (x < wrap.scrollLeft || x > wrap.scrollLeft + wrap.clientWidth - stepWidth) wrap.scrollLeft = x - wrap.clientWidth / 2;
    if (y < wrap.scrollTop || y > wrap.scrollTop + wrap.clientHeight - ROW) wrap.scrollTop = y - wrap.clientHeight / 2;
  }
  function scrollToNotes() {
    let top = HIGH;
    for (const t of song.tracks) for (const n of t.notes) top = Math.min(top, HIGH - n[0]);
    $("roll-wrap").scrollTop = Math.max(0, (top - 6) * ROW);
  }

  function setSong(s, fromVersion) {
    stopSong();
    song = JSON.parse(JSON.stringify(s));
    if (!song.tracks.length) song.tracks.push({name: "melody", program: 0, is_drum: false, notes: []});
    selected = null;
    current = fromVersion || null;
    edited = !fromVersion;
    showTempoAndKey();
    drawRoll();
    scrollToNotes();
    updateVersionLabel();
  }
  function showTempoAndKey() {  // the controls show the music's own tempo and stated key (none: "from the melody")
    $("tempo").value = Math.round(song.tempo);
    $("key").value = config.keyNames.includes(song.key) ? song.key : "";
  }
  function updateVersionLabel() {
    const v = versions.find((x) => x.key === current);
    $("version-label").textContent = v ? "(" + versionLabel(v) + (edited ? ", edited" : "") + ")" : (noteCount(song) ? "(your melody)" : "");
  }

  // ---- input: upload, samples ---------------------------------------------------------------------------------
  let imports = 0;
  async function loadNotes(form, label, asVersion) {
    try {
      const notes = await api("POST", "/api/studio/notes/", form);
      snapshot();
      if (asVersion) {  // an imported MIDI file is a version of its own: listed, playable, comparable
        const v = {key: "import-" + (++imports), jobId: null, song: notes, audioUrl: null, midiUrl: null, model: null,
                   imported: label};
        versions.push(v);
        setSong(notes, v.key);
        renderHistory();
      } else setSong(notes, null);
      say("rec-status", label + ": " + noteCount(song) + " notes.");
    } catch (err) { say("rec-status", err.message, true); }
  }
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (!file) return;
    const form = new FormData(); form.append("input", file);
    loadNotes(form, file.name, true);
  });
  $("sample").addEventListener("change", () => {
    if (!$("sample").value) return;
    const form = new FormData(); form.append("sample", $("sample").value);
    loadNotes(form, $("sample").selectedOptions[0].textContent);
  });
  $("record").addEventListener("click", () => (recording ? stopRecording() : startRecording()));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  document.addEventListener("keydown", (e) => {  // Ctrl+Z undo, Ctrl+Shift+Z (or Ctrl+Y) redo; not while typing
    const t = e.target;
    if (!(e.ctrlKey || e.metaKey) || e.altKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA"))) return;
    const k = e.key.toLowerCase();
    if (k === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
    else if ((k === "z" && e.shiftKey) || k === "y") { e.preventDefault(); redo(); }
  });
  $("clear").addEventListener("click", () => {
    snapshot();
    song.tracks.forEach((t) => { t.notes = []; });
    selected = null; changed();
  });
  $("play-roll").addEventListener("click", playSong);
  $("zoom").addEventListener("input", () => { stepWidth = Number($("zoom").value); drawRoll(); });
  document.querySelectorAll("input[name=tool]").forEach((r) => r.addEventListener("change", () => {
    tool = r.value;
    canvas.style.touchAction = tool === "scroll" ? "pan-x pan-y" : "none";  // a swipe scrolls, or edits
  }));
  $("meter").addEventListener("change", () => { song.time_signature = meter(); drawRoll(); });
  $("tempo").addEventListener("change", () => {
    const t = Number($("tempo").value);
    if (t >= 40 && t <= 240) { song.tempo = t; edited = true; updateVersionLabel(); }
  });
  $("key").addEventListener("change", () => {  // the key the models write in: the music's key signature
    snapshot();
    song.key = $("key").value || null;
    edited = true; updateVersionLabel();
  });

  // ---- models ---------------------------------------------------------------------------------------------------
  function modelInfo() { return config.models.find((m) => m.name === $("model").value) || config.models[0]; }
  function renderModel() {
    const m = modelInfo();
    if (!m) { $("model-description").textContent = "No model is available."; return; }
    $("model-description").textContent = m.description;
    const box = $("params");
    box.textContent = "";
    for (const p of m.params) {
      if (p.name === "seed" || p.name === "key") continue;  // the studio's Seed and Key controls set these
      const id = "param-" + p.name;
      const wrap = document.createElement("div");
      wrap.className = "param";
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = p.name.replace(/_/g, " ");
      let input;
      if (p.kind === "programs") {  // one select of named General MIDI instruments per part
        input = document.createElement("span");
        input.className = "programs";
        input.setAttribute("role", "group");
        input.setAttribute("aria-labelledby", id + "-label");
        label.id = id + "-label";
        label.textContent = "instruments";
        const defaults = Array.isArray(p.default) ? p.default : [];
        for (let i = 0; i < p.count; i++) {
          const sel = document.createElement("select");
          sel.className = "program";
          sel.setAttribute("aria-label", "Instrument of part " + (i + 1));
          p.instruments.forEach((name, n) => {
            const o = document.createElement("option"); o.value = String(n); o.textContent = name; sel.appendChild(o);
          });
          sel.value = String(defaults[i] || 0);
          input.appendChild(sel);
        }
      } else if (p.kind === "choice") {
        input = document.createElement("select");
        for (const c of p.choices) { const o = document.createElement("option"); o.value = o.textContent = c; input.appendChild(o); }
        input.value = p.default;
      } else {
        input = document.createElement("input");
        if (p.kind === "number") { input.type = "number"; input.min = p.min; input.max = p.max; input.step = p.step; }
        else input.type = "text";
        input.value = p.default === null || p.default === undefined ? "" : (Array.isArray(p.default) ? p.default.join(",") : p.default);
      }
      input.id = id;
      input.dataset.param = p.name;
      input.dataset.kind = p.kind;
      const help = document.createElement("small");
      help.id = id + "-help";
      const shown = (v) => (p.kind === "programs" ? p.instruments[v] : v);
      help.textContent = p.help + (p.kind === "programs" ? "" : " (" + p.range + ")") + "; default "
        + (Array.isArray(p.default) ? p.default.map(shown).join(", ") : p.default);
      input.setAttribute("aria-describedby", help.id);
      wrap.append(label, input, help);
      box.appendChild(wrap);
    }
    const sel = $("checkpoint");
    sel.textContent = "";
    const shipped = document.createElement("option"); shipped.value = ""; shipped.textContent = "shipped model";
    sel.appendChild(shipped);
    for (const c of config.checkpoints.filter((c) => c.architecture === m.name)) {
      const o = document.createElement("option"); o.value = String(c.id); o.textContent = c.name; sel.appendChild(o);
    }
  }
  $("model").addEventListener("change", renderModel);

  function collectParams() {
    const params = {};
    document.querySelectorAll("#params [data-param]").forEach((el) => {
      if (el.dataset.kind === "programs") params[el.dataset.param] = Array.from(el.querySelectorAll("select"), (s) => Number(s.value));
      else if (el.value !== "") params[el.dataset.param] = el.type === "number" ? Number(el.value) : el.value;
    });
    if ($("seed").value !== "") params.seed = Number($("seed").value);
    return params;
  }

  // ---- generate, poll, variations ----------------------------------------------------------------------------
  let batchCards = [];
  $("generate").addEventListener("click", async () => {
    if (!noteCount(song)) { say("generate-status", "There are no notes yet: play, upload or pick a melody first.", true); return; }
    stopRecording();
    const m = modelInfo();
    const form = new FormData();
    form.append("model", m.name);
    form.append("params", JSON.stringify(collectParams()));
    form.append("variations", $("variations").value || "1");
    if ($("checkpoint").value) form.append("checkpoint", $("checkpoint").value);
    form.append("key", $("key").value);  // "": from the melody
    const v = versions.find((x) => x.key === current);
    const bars = chosenBars();
    if (bars && bars.from >= Math.max(songEnd(song), 1)) {
      say("generate-status", "Bar " + (bars.from / stepsPerBar(song) + 1) + " is after the end of the music.", true);
      return;
    }
    if (bars && m.name === "transformer") {  // it continues the music from the first chosen bar
      form.append("notes", JSON.stringify(notesBefore(song, bars.from)));
      if (v && v.jobId) form.append("parent", String(v.jobId));
    } else if (v && v.jobId && !edited) form.append("parent", String(v.jobId));
    else {
      form.append("notes", JSON.stringify(song));
      if (v && v.jobId) form.append("parent", String(v.jobId));  // lineage: edited from that version
    }
    $("generate").disabled = true;
    say("generate-status", "Sending…");
    const started = performance.now();
    try {
      const body = await api("POST", "/api/generate/", form);
      say("generate-status", "Queued " + body.jobs.length + " variation(s).");
      showBatch(body.jobs, m.name, started, {parentKey: v && !edited ? v.key : null,
                                             editedFromKey: v && edited ? v.key : null,
                                             song: JSON.parse(JSON.stringify(song)), bars});
    } catch (err) {
      say("generate-status", err.message, true);
      $("generate").disabled = false;
    }
  });

  function showBatch(jobs, modelName, started, origin) {
    const out = $("variations-out");
    out.textContent = "";
    batchCards = jobs.map((j) => {
      const card = document.createElement("div");
      card.className = "variation card";
      card.dataset.job = String(j.id);
      card.innerHTML = '<h3>Variation ' + j.variation + ' <span class="muted small">seed ' + j.seed + '</span></h3>' +
        '<progress max="100" value="0" aria-label="Progress of variation ' + j.variation + '"></progress> ' +
        '<span class="state" role="status" aria-live="polite">queued</span><div class="result"></div>';
      out.appendChild(card);
      return {job: j, card, done: false, origin};
    });
    const poll = async () => {
      let pending = 0;
      for (const b of batchCards) {
        if (b.done) continue;
        pending++;
        try {
          const job = await api("GET", "/api/jobs/" + b.job.id + "/");
          b.card.querySelector("progress").value = job.progress;
          b.card.querySelector(".state").textContent = job.status + (job.status === "running" ? " " + job.progress + "%" : "");
          if (job.status === "done") { b.done = true; await showResult(b, job, modelName, started); }
          else if (job.status === "failed") {
            b.done = true;
            const p = document.createElement("p"); p.className = "error"; p.textContent = job.error;
            b.card.querySelector(".result").appendChild(p);
          }
        } catch (err) { b.card.querySelector(".state").textContent = err.message; }
      }
      if (batchCards.some((b) => !b.done)) setTimeout(poll, 400);
      else { $("generate").disabled = false; say("generate-status", "Done in " + ((performance.now() - started) / 1000).toFixed(1) + " s."); }
    };
    setTimeout(poll, 300);
  }

  async function showResult(b, job, modelName, started) {
    const notes = await api("GET", job.notes_url);
    b.notes = notes.output;
    b.jobData = job;
    const res = b.card.querySelector(".result");
    for (const sentence of job.adjustments || []) {
      const p = document.createElement("p"); p.className = "muted adjustment"; p.textContent = sentence;
      res.appendChild(p);
    }
    const cv = document.createElement("canvas");
    cv.className = "mini-roll";
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", "Piano roll of variation " + job.variation);
    const wrap = document.createElement("div"); wrap.className = "mini-wrap"; wrap.appendChild(cv);
    res.appendChild(wrap);
    drawRollOn(cv, notes.output, miniOpts(notes.output));
    if (job.audio_url) {
      const audio = document.createElement("audio");
      audio.controls = true; audio.preload = "auto"; audio.src = job.audio_url;
      audio.className = "variation-audio";
      res.appendChild(audio);
    } else {
      const p = document.createElement("p"); p.className = "muted small"; p.textContent = "No audio could be rendered; download the MIDI.";
      res.appendChild(p);
    }
    const actions = document.createElement("div");
    actions.className = "row";
    actions.innerHTML = '<a class="button secondary" download href="' + job.output_midi_url + '">Download MIDI</a>';
    const keep = document.createElement("button");
    keep.type = "button"; keep.className = "button keep"; keep.textContent = "Keep this one";
    keep.addEventListener("click", () => keepVariation(b, modelName));
    actions.prepend(keep);
    res.appendChild(actions);
    b.card.querySelector(".state").textContent = "done in " + job.seconds.toFixed(1) + " s (model)";
    if (batchCards.length === 1) keepVariation(b, modelName);  // one variation: it is the new version
  }
  function miniOpts(s) {
    let lo = 127, hi = 0;
    for (const t of s.tracks) for (const n of t.notes) { lo = Math.min(lo, n[0]); hi = Math.max(hi, n[0]); }
    if (lo > hi) { lo = 60; hi = 72; }
    return {stepWidth: 6, row: 4, low: Math.max(0, lo - 2), high: Math.min(127, hi + 2), left: 0, pad: false, minBars: 1};
  }

  function keepVariation(b, modelName) {
    const existing = versions.find((v) => v.key === "job-" + b.job.id || v.key === "bars-" + b.job.id);
    if (existing) { makeCurrent(existing.key); return; }
    // what it was made from: a version, unless the melody was new or edited (then that melody becomes a version
    // too, so that it stays listenable and comparable; one per batch)
    let from = b.origin.parentKey ? versions.find((x) => x.key === b.origin.parentKey) : null;
    const inputKey = "input-" + b.jobData.batch;
    if (!from && !(from = versions.find((x) => x.key === inputKey))) {
      from = {key: inputKey, jobId: null, song: b.origin.song, audioUrl: null, midiUrl: b.jobData.input_midi_url,
              model: null, editedFromKey: b.origin.editedFromKey};
      versions.push(from);
    }
    let version = {key: "job-" + b.job.id, jobId: b.job.id, song: b.notes, audioUrl: b.jobData.audio_url,
                   midiUrl: b.jobData.output_midi_url, model: modelName, fromKey: from ? from.key : null};
    if (b.origin.bars) {  // only the chosen bars change: a version of its own, played by the page's synthesizer
      const bars = b.origin.bars, spb = stepsPerBar(b.origin.song);
      version = {key: "bars-" + b.job.id, jobId: null, song: mergeBars(b.origin.song, b.notes, bars.from, bars.to),
                 audioUrl: null, midiUrl: null, model: modelName, fromKey: from ? from.key : null,
                 bars: "bars " + (bars.from / spb + 1) + "–" + bars.to / spb};
    }
    versions.push(version);
    b.card.querySelector(".keep").textContent = "Kept";
    makeCurrent(version.key);
  }
  // ---- only some bars ------------------------------------------------------------------------------------------
  function chosenBars() {  // {from, to} in steps when "only bars" is chosen, else null
    if (!$("scope-bars").checked) return null;
    const spb = stepsPerBar(song);
    const a = Math.max(1, Math.round(Number($("bar-from").value) || 1));
    const z = Math.max(a, Math.round(Number($("bar-to").value) || a));
    return {from: (a - 1) * spb, to: z * spb};
  }
  function selectBars(a, z) {
    $("bar-from").value = String(a); $("bar-to").value = String(z); $("scope-bars").checked = true;
    drawRoll();
  }
  function notesBefore(s, step) {  // the music before ``step``: what the Transformer continues
    const out = JSON.parse(JSON.stringify(s));
    out.tracks.forEach((t) => { t.notes = t.notes.filter((n) => n[1] < step).map((n) => [n[0], n[1], Math.min(n[2], step - n[1]), n[3]]); });
    return out;
  }
  // The original outside [from, to) note for note, the model's notes that start inside it (cut at its end).
  function mergeBars(original, result, from, to) {
    const out = JSON.parse(JSON.stringify(original));
    out.tracks.forEach((t) => { t.notes = t.notes.filter((n) => n[1] < from || n[1] >= to); });
    for (const rt of result.tracks) {
      let t = out.tracks.find((x) => x.name === rt.name && x.is_drum === rt.is_drum);
      if (!t) { t = {name: rt.name, program: rt.program, is_drum: rt.is_drum, notes: []}; out.tracks.push(t); }
      for (const n of rt.notes) if (n[1] >= from && n[1] < to) t.notes.push([n[0], n[1], Math.min(n[2], to - n[1]), n[3]]);
    }
    out.tracks.forEach((t) => t.notes.sort((p, q) => p[1] - q[1] || p[0] - q[0]));
    return out;
  }
  ["bar-from", "bar-to"].forEach((id) => $(id).addEventListener("input", () => { $("scope-bars").checked = true; drawRoll(); }));
  document.querySelectorAll("input[name=scope]").forEach((r) => r.addEventListener("change", () => drawRoll()));

  function versionName(key) {
    const i = versions.findIndex((x) => x.key === key);
    return i < 0 ? null : "v" + i;
  }
  function versionLabel(v) {
    let what;
    if (v.model) {
      const from = v.fromKey && versionName(v.fromKey);
      what = v.model + (v.bars ? " (" + v.bars + ")" : "") + (from ? " on " + from : (v.parentJob ? " on #" + v.parentJob : ""));
    } else {
      const from = v.editedFromKey && versionName(v.editedFromKey);
      what = v.imported ? "imported " + v.imported : (from ? from + " edited" : "your melody");
    }
    return versionName(v.key) + " · " + what + (v.earlier ? " · earlier (" + v.earlier + " UTC)" : "")
           + (v.saved ? " · saved" : "");
  }
  async function ensureSong(v) {
    if (!v.song && v.notesUrl) v.song = (await api("GET", v.notesUrl)).output;
    return v.song;
  }
  async function makeCurrent(key) {
    const v = versions.find((x) => x.key === key);
    if (!v) return;
    try { await ensureSong(v); } catch (err) { say("generate-status", err.message, true); return; }
    snapshot();
    setSong(v.song, v.key);
    renderHistory();
  }
  async function playVersion(v, button) {
    const same = playback && playback.button === button;
    stopSong();
    if (same) return;
    try { await ensureSong(v); } catch (err) { say("generate-status", err.message, true); return; }
    playNotes(v.song, button, false);
  }
  // Each version's list item is built once and then only relabelled: its audio element keeps what it loaded, so
  // "Make current" or a new version downloads no audio again (the URLs are immutable and cached for a year).
  const historyItems = new Map();  // key -> {li, title, make}
  function historyItem(v) {
    const li = document.createElement("li");
    li.dataset.key = v.key;
    const title = document.createElement("strong");
    li.appendChild(title);
    const row = document.createElement("div");
    row.className = "row";
    if (v.audioUrl) {
      const audio = document.createElement("audio");
      audio.controls = true; audio.preload = "none"; audio.src = v.audioUrl;  // fetched when first played
      audio.className = "version-audio";
      row.appendChild(audio);
    } else {  // a melody of yours (v0): played by the page's synthesizer, as the piano roll's ▶ Play
      const play = document.createElement("button");
      play.type = "button"; play.className = "button secondary play-version"; play.textContent = "▶ Play";
      play.addEventListener("click", () => playVersion(v, play));
      row.appendChild(play);
    }
    const make = document.createElement("button");
    make.type = "button"; make.className = "button secondary make-current"; make.textContent = "Make current";
    make.addEventListener("click", () => makeCurrent(v.key));
    row.appendChild(make);
    if (v.midiUrl) {
      const midi = document.createElement("a");
      midi.className = "button secondary midi"; midi.href = v.midiUrl; midi.download = ""; midi.textContent = "MIDI";
      midi.setAttribute("aria-label", "Download this version as MIDI");
      row.appendChild(midi);
    } else {  // no job wrote it (an edit, only some bars regenerated, an import): the server writes its notes as MIDI
      const midi = document.createElement("button");
      midi.type = "button"; midi.className = "button secondary midi"; midi.textContent = "MIDI";
      midi.setAttribute("aria-label", "Download this version as MIDI");
      midi.addEventListener("click", () => downloadMidi(v));
      row.appendChild(midi);
    }
    const cmp = document.createElement("label");
    cmp.className = "inline-label";
    cmp.innerHTML = '<input type="checkbox" class="compare-box"> Compare';
    cmp.firstChild.addEventListener("change", renderCompare);
    cmp.firstChild.value = v.key;
    row.appendChild(cmp);
    li.appendChild(row);
    return {li, title, make};
  }
  async function downloadMidi(v) {
    const form = new FormData();
    form.append("notes", JSON.stringify(v.song));
    form.append("title", versionLabel(v).split(" · ")[0]);
    const response = await fetch("/api/studio/midi/", {method: "POST", body: form, credentials: "same-origin",
                                                       headers: {"X-CSRFToken": csrf}});
    if (!response.ok) { say("generate-status", "The MIDI file could not be written.", true); return; }
    const url = URL.createObjectURL(await response.blob());
    const a = document.createElement("a");
    a.href = url; a.download = versionLabel(v).split(" · ")[0] + ".mid";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  function renderHistory() {
    const list = $("history");
    versions.forEach((v, i) => {
      let item = historyItems.get(v.key);
      if (!item) { item = historyItem(v); historyItems.set(v.key, item); }
      if (list.children[i] !== item.li) list.insertBefore(item.li, list.children[i] || null);
      item.li.className = v.key === current ? "current" : "";
      item.title.textContent = versionLabel(v) + (v.key === current ? " (current)" : "");
      item.make.disabled = v.key === current;
    });
    updateVersionLabel();
  }
  async function renderCompare() {
    const keys = Array.from(document.querySelectorAll(".compare-box:checked")).map((b) => b.value).slice(-2);
    for (const key of keys) {
      try { await ensureSong(versions.find((x) => x.key === key)); } catch (err) { return; }
    }
    const box = $("compare");
    box.textContent = "";
    box.hidden = keys.length < 2;
    if (keys.length < 2) return;
    for (const key of keys) {
      const v = versions.find((x) => x.key === key);
      const col = document.createElement("div");
      col.className = "compare-col";
      const h = document.createElement("h3"); h.textContent = versionLabel(v); col.appendChild(h);
      const cv = document.createElement("canvas");
      cv.setAttribute("role", "img"); cv.setAttribute("aria-label", "Piano roll of " + versionLabel(v));
      const wrap = document.createElement("div"); wrap.className = "mini-wrap"; wrap.appendChild(cv);
      col.appendChild(wrap);
      drawRollOn(cv, v.song, miniOpts(v.song));
      if (v.audioUrl) {
        const a = document.createElement("audio"); a.controls = true; a.preload = "none"; a.src = v.audioUrl;
        col.appendChild(a);
      }
      box.appendChild(col);
    }
  }

  // ---- save, own models ---------------------------------------------------------------------------------------
  $("save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData();
    form.append("title", $("save-title").value);
    const v = versions.find((x) => x.key === current);
    if (v && v.jobId && !edited) form.append("job", String(v.jobId));
    else {
      if (!noteCount(song)) { say("save-status", "There is nothing to save yet.", true); return; }
      form.append("notes", JSON.stringify(song));
      if (v && v.jobId) form.append("job", String(v.jobId));
    }
    try {
      const body = await api("POST", "/api/studio/save/", form);
      say("save-status", "Saved \u201c" + body.title + "\u201d to My compositions.");
    } catch (err) { say("save-status", err.message, true); }
  });
  $("checkpoint-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = await api("POST", "/api/models/", new FormData(e.target));
      config.checkpoints.unshift({id: body.id, name: body.name, architecture: body.architecture});
      $("model").value = body.architecture;
      renderModel();
      $("checkpoint").value = String(body.id);
      say("checkpoint-status", "Uploaded: " + body.name + " (" + body.architecture + ").");
      e.target.reset();
    } catch (err) { say("checkpoint-status", err.message, true); }
  });

  // earlier versions (this user's jobs kept on the server: unsaved ones for STUDIO_JOB_KEEP_HOURS)
  async function loadEarlier() {
    try {
      const body = await api("GET", "/api/jobs/");
      const done = body.results.filter((j) => j.status === "done").slice(0, 20).reverse();
      const earlier = [];
      for (const j of done) {
        if (versions.find((v) => v.jobId === j.id)) continue;
        earlier.push({key: "job-" + j.id, jobId: j.id, song: null, notesUrl: j.notes_url, audioUrl: j.audio_url,
                      midiUrl: j.output_midi_url, model: j.model, parentJob: j.parent,
                      fromKey: j.parent ? "job-" + j.parent : null, saved: j.saved,
                      earlier: j.created_at.slice(0, 16).replace("T", " ")});
      }
      versions = earlier.concat(versions);  // older first: the list reads v0, v1, ... in the order they were made
      renderHistory();
    } catch (err) { /* the page works without them */ }
  }

  // ---- start ------------------------------------------------------------------------------------------------
  buildKeyboard();
  // /studio/?checkpoint=ID (My models' "Use in the studio"): that model, with its architecture chosen
  const wanted = new URLSearchParams(window.location.search).get("checkpoint");
  const own = config.checkpoints.find((c) => String(c.id) === wanted);
  if (own) $("model").value = own.architecture;
  renderModel();
  if (own) $("checkpoint").value = String(own.id);
  loadEarlier();
  updateUndoButtons();
  drawRoll();
  $("roll-wrap").scrollTop = (HIGH - 79) * ROW;
  window.studio = {get song() { return song; }, get versions() { return versions; }, setSong, makeCurrent};
})();
