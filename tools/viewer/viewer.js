// The dosna serve page: dataset list, slice viewer and chunk map over the
// JSON / .npy API of docs/viewer.md. No state lives anywhere but the URL.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = params.get("token");
const state = { dataset: null, info: null, axis: 0, index: 0, plane: null, lut: {},
                zoom: 1, tx: 0, ty: 0, generation: 0 };

async function api(path, query) {
  const q = new URLSearchParams(query || {});
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path + (q.toString() ? "?" + q : ""), { headers });
  if (!r.ok) {
    let msg = r.status + " " + r.statusText;
    try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return r;
}

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

// .npy (numpy/lib/format.py) -> {shape, data} with data a typed array.
const NPY_TYPES = { "f4": Float32Array, "f8": Float64Array, "i1": Int8Array, "u1": Uint8Array,
                    "b1": Uint8Array, "i2": Int16Array, "u2": Uint16Array, "i4": Int32Array,
                    "u4": Uint32Array, "i8": BigInt64Array, "u8": BigUint64Array };
function parseNpy(buf) {
  const bytes = new Uint8Array(buf);
  const major = bytes[6];
  const view = new DataView(buf);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([<>|=])(\w+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").filter((s) => s.trim())
    .map(Number);
  const Type = descr && descr[1] !== ">" && NPY_TYPES[descr[2]];
  if (!Type) throw new Error("the viewer cannot show dtype " + (descr ? descr[0] : header));
  const data = new Type(buf.slice(start + hlen));
  return { shape, data: Type === BigInt64Array || Type === BigUint64Array
    ? Float64Array.from(data, Number) : data, descr: descr[2] };
}

async function colourTable(name) {
  if (!state.lut[name]) state.lut[name] = (await (await api("/api/colormap", { name })).json()).rgb;
  return state.lut[name];
}

// The p-th percentile (0..100) of the finite values, from a sample.
function percentiles(data, ps) {
  const step = Math.max(1, Math.floor(data.length / 200000));
  const sample = [];
  for (let i = 0; i < data.length; i += step) if (Number.isFinite(data[i])) sample.push(data[i]);
  sample.sort((a, b) => a - b);
  if (!sample.length) return ps.map(() => 0);
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.floor(p / 100 * sample.length))]);
}

function fmt(v) { return Number.isInteger(v) ? String(v) : v.toPrecision(6); }

async function loadDatasets() {
  const list = await (await api("/api/datasets")).json();
  $("store").textContent = list.backend + " store '" + list.store + "'";
  const body = $("datasets").tBodies[0];
  body.textContent = "";
  for (const d of list.datasets) {
    const tr = body.insertRow();
    tr.dataset.name = d.name;
    const cells = d.error ? [d.name, d.error, "", "", ""]
      : [d.name, d.shape.join("×"), d.dtype, d.chunk_size.join("×"),
         d.stored_chunks + "/" + d.total_chunks];
    for (const c of cells) tr.insertCell().textContent = c;
    tr.onclick = () => openDataset(d.name, null, null);
  }
  return list.datasets;
}

async function openDataset(name, axis, index) {
  const info = await (await api("/api/info", { dataset: name })).json();
  state.dataset = name;
  state.info = info;
  for (const tr of $("datasets").tBodies[0].rows)
    tr.classList.toggle("selected", tr.dataset.name === name);
  const dl = $("info");
  dl.textContent = "";
  for (const k of ["name", "format", "shape", "dtype", "fillvalue", "chunk_size", "chunk_grid",
                   "stored_chunks", "total_chunks", "codecs", "nbytes", "attributes"]) {
    const v = info[k];
    dl.appendChild(document.createElement("dt")).textContent = k;
    dl.appendChild(document.createElement("dd")).textContent =
      typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  const is3d = info.shape.length === 3;
  $("axis").disabled = $("slider").disabled = $("index").disabled = !is3d;
  state.axis = is3d ? Math.min(2, Math.max(0, axis === null ? 0 : axis)) : -1;
  $("axis").value = String(Math.max(0, state.axis));
  setAxisRange(index);
  state.zoom = 0;  // fit on first draw
  await showPlane();
}

function setAxisRange(index) {
  if (state.axis < 0) return;
  const extent = state.info.shape[state.axis];
  $("slider").max = $("index").max = String(extent - 1);
  state.index = index === null || index === undefined ? Math.floor(extent / 2)
    : Math.min(extent - 1, Math.max(0, index));
  $("slider").value = $("index").value = String(state.index);
}

function planeQuery() {
  const q = { dataset: state.dataset };
  if (state.axis >= 0) { q.axis = state.axis; q.index = state.index; }
  return q;
}

function updateUrl() {
  const q = new URLSearchParams(planeQuery());
  if (token) q.set("token", token);
  history.replaceState(null, "", "?" + q);
}

async function showPlane() {
  const generation = ++state.generation;
  const view = $("view");
  const max = Math.max(64, Math.ceil(Math.max(view.clientWidth, view.clientHeight) *
                                     (window.devicePixelRatio || 1)));
  document.body.dataset.state = "loading";
  updateUrl();
  try {
    const r = await api("/api/slice.npy", { ...planeQuery(), max });
    const npy = parseNpy(await r.arrayBuffer());
    const chunks = await (await api("/api/chunkmap", planeQuery())).json();
    if (generation !== state.generation) return;  // a newer request won
    const [rows, cols] = r.headers.get("X-Dosna-Plane").split(",").map(Number);
    state.plane = { ...npy, stride: Number(r.headers.get("X-Dosna-Stride")), rows, cols };
    if ($("auto").checked) {
      const [lo, hi] = percentiles(npy.data, [1, 99]);
      $("vmin").value = fmt(lo);
      $("vmax").value = fmt(hi);
    }
    await draw();
    drawChunkMap(chunks);
    status("plane " + (state.axis >= 0 ? "axis " + state.axis + " index " + state.index + ", " : "")
           + rows + "×" + cols + " shown every " + state.plane.stride + " elements");
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
    document.body.dataset.state = "ready";
  } catch (e) {
    if (generation !== state.generation) return;
    status(e.message, true);
    document.body.dataset.state = "error";
  }
}

async function draw() {
  const p = state.plane;
  if (!p) return;
  const [h, w] = p.shape;
  const canvas = $("image");
  canvas.width = w;
  canvas.height = h;
  const lut = await colourTable($("cmap").value);
  let lo = Number($("vmin").value), hi = Number($("vmax").value);
  if (!(hi > lo)) hi = lo + 1;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < w * h; i++) {
    const v = p.data[i];
    const g = Number.isNaN(v) ? 0 : Math.min(255, Math.max(0, Math.round((v - lo) * scale)));
    img.data[4 * i] = lut[3 * g];
    img.data[4 * i + 1] = lut[3 * g + 1];
    img.data[4 * i + 2] = lut[3 * g + 2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  if (!state.zoom) fit();
  applyTransform();
}

function fit() {
  const view = $("view"), p = state.plane;
  const [h, w] = p.shape;
  state.zoom = Math.min(view.clientWidth / w, view.clientHeight / h);
  state.tx = (view.clientWidth - w * state.zoom) / 2;
  state.ty = (view.clientHeight - h * state.zoom) / 2;
}

function applyTransform() {
  $("image").style.transform =
    "translate(" + state.tx + "px," + state.ty + "px) scale(" + state.zoom + ")";
  if (state.plane)
    $("zoomlevel").textContent = "zoom " + (state.zoom * state.plane.stride).toFixed(2) + "×";
}

function drawChunkMap(map) {
  const canvas = $("chunkmap");
  const [gr, gc] = map.grid;
  const cell = Math.max(1, Math.floor(200 / Math.max(gr, gc)));
  canvas.width = gc * cell;
  canvas.height = gr * cell;
  const ctx = canvas.getContext("2d");
  let stored = 0;
  for (let r = 0; r < gr; r++)
    for (let c = 0; c < gc; c++) {
      const has = map.exists[r * gc + c] === "1";
      stored += has;
      ctx.fillStyle = has ? "#7fc97f" : "#444";
      ctx.fillRect(c * cell, r * cell, cell - (cell > 3), cell - (cell > 3));
    }
  $("chunkstat").textContent = stored + " of " + gr * gc + " chunks of this plane are stored";
}

// The data position under a mouse event, or null outside the plane.
function positionAt(ev) {
  const p = state.plane;
  if (!p) return null;
  const rect = $("image").getBoundingClientRect();
  const c = Math.floor((ev.clientX - rect.left) / rect.width * p.shape[1]);
  const r = Math.floor((ev.clientY - rect.top) / rect.height * p.shape[0]);
  if (r < 0 || c < 0 || r >= p.shape[0] || c >= p.shape[1]) return null;
  return { r, c, value: p.data[r * p.shape[1] + c] };
}

function readout(ev) {
  const at = positionAt(ev);
  if (!at) { $("readout").innerHTML = "&nbsp;"; return; }
  const s = state.plane.stride;
  const pos = [at.r * s, at.c * s];
  if (state.axis >= 0) pos.splice(state.axis, 0, state.index);
  const v = state.plane.descr === "b1" ? Boolean(at.value) : at.value;
  $("readout").textContent = "[" + pos.join(", ") + "] = " + (typeof v === "number" ? fmt(v) : v);
  $("readout").dataset.position = pos.join(",");
  $("readout").dataset.value = String(at.value);
}

function setIndex(i) {
  if (state.axis < 0) return;
  const extent = state.info.shape[state.axis];
  const next = Math.min(extent - 1, Math.max(0, i));
  if (next === state.index) return;
  state.index = next;
  $("slider").value = $("index").value = String(next);
  showPlane();
}

function wire() {
  $("slider").addEventListener("input", () => setIndex(Number($("slider").value)));
  $("index").addEventListener("change", () => setIndex(Number($("index").value)));
  $("axis").addEventListener("change", () => {
    state.axis = Number($("axis").value);
    setAxisRange(null);
    state.zoom = 0;
    showPlane();
  });
  $("auto").addEventListener("change", () => { if ($("auto").checked) showPlane(); });
  for (const id of ["vmin", "vmax"])
    $(id).addEventListener("input", () => { $("auto").checked = false; draw(); });
  $("cmap").addEventListener("change", draw);
  $("fit").addEventListener("click", () => { if (state.plane) { fit(); applyTransform(); } });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT" && ev.target.type !== "range") return;
    const d = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[ev.key];
    if (d && state.info) { ev.preventDefault(); setIndex(state.index + d); }
  });
  const view = $("view");
  view.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const rect = view.getBoundingClientRect();
    const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
    const f = ev.deltaY < 0 ? 1.25 : 0.8;
    state.tx = x - (x - state.tx) * f;
    state.ty = y - (y - state.ty) * f;
    state.zoom *= f;
    applyTransform();
  }, { passive: false });
  let drag = null;
  view.addEventListener("mousedown", (ev) => {
    drag = { x: ev.clientX - state.tx, y: ev.clientY - state.ty };
    view.classList.add("dragging");
  });
  window.addEventListener("mouseup", () => { drag = null; view.classList.remove("dragging"); });
  view.addEventListener("mousemove", (ev) => {
    if (drag) { state.tx = ev.clientX - drag.x; state.ty = ev.clientY - drag.y; applyTransform(); }
    readout(ev);
  });
}

async function main() {
  wire();
  try {
    const datasets = await loadDatasets();
    const want = params.get("dataset");
    const num = (k) => (params.has(k) && /^\d+$/.test(params.get(k)) ? Number(params.get(k)) : null);
    if (want) await openDataset(want, num("axis"), num("index"));
    else if (datasets.length && !datasets[0].error) await openDataset(datasets[0].name, null, null);
    else document.body.dataset.state = "ready";
  } catch (e) {
    status(e.message, true);
    document.body.dataset.state = "error";
  }
}

main();
