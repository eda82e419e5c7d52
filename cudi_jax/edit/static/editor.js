// CuDi edit: the page. Plain JavaScript, no dependencies, no build step.
// The server holds the state (exposure setting, painted map, undo history) and
// answers every edit with the new preview (a JPEG; the state in X-Cudi-State).
// Coordinates: "image" = pixels of the preview image; "screen" = CSS pixels of the
// canvas. screen = image * view.scale + (view.tx, view.ty).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const statusBox = $('status');

  const info = { preview_width: 1, preview_height: 1, width: 1, height: 1 };
  const images = { before: null, after: null, map: null };
  const ui = {
    setting: 'auto', mode: 'brighten', radius: 40, strength: 0.3, hardness: 0.4,
    view: 'split', split: 0.5, overlay: false,
  };
  const view = { scale: 1, tx: 0, ty: 0, fitted: true };
  const pointer = { x: -1, y: -1, inside: false };
  let server = { version: -1, can_undo: false, can_redo: false, setting: 'auto' };
  let chain = Promise.resolve();   // requests run one after another, in order
  let pending = 1;                 // the page is loading
  let spaceDown = false;
  let drag = null;                 // {kind: 'paint'|'pan'|'split', ...}
  let strokeId = 1;

  // ------------------------------------------------------------------ status

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = kind || '';
  }

  function busy(delta) {
    pending += delta;
    document.body.dataset.busy = pending > 0 ? '1' : '0';
  }

  // ------------------------------------------------------------------ requests

  function enqueue(task) {
    busy(1);
    const run = chain.then(task);
    chain = run.catch(() => {}).then(() => busy(-1));
    return run;
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      return body.error || response.statusText;
    } catch (e) {
      return response.status + ' ' + response.statusText;
    }
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    return response;
  }

  async function takePreview(response) {
    if (!response.ok) throw new Error(await errorOf(response));
    const state = JSON.parse(response.headers.get('X-Cudi-State') || '{}');
    const bitmap = await createImageBitmap(await response.blob());
    if (images.after && images.after.close) images.after.close();
    images.after = bitmap;
    applyState(state);
    if (ui.overlay) await loadMap();
    draw();
    return state;
  }

  function edit(path, body) {
    return enqueue(async () => {
      try {
        const state = await takePreview(await post(path, body));
        say('Preview ' + Math.round(state.compute_ms) + ' ms');
      } catch (err) {
        say(err.message, 'error');
      }
    });
  }

  async function loadMap() {
    const response = await fetch('/api/map.png?v=' + server.version, { cache: 'no-store' });
    if (!response.ok) throw new Error(await errorOf(response));
    images.map = colorize(await createImageBitmap(await response.blob()));
  }

  // A colour ramp for the map overlay (dark targets purple, bright ones yellow).
  const RAMP = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
  const LUT = (() => {
    const lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255 * (RAMP.length - 1), k = Math.min(Math.floor(t), RAMP.length - 2);
      const f = t - k;
      for (let c = 0; c < 3; c++) lut[i * 3 + c] = RAMP[k][c] * (1 - f) + RAMP[k + 1][c] * f;
    }
    return lut;
  })();

  function colorize(bitmap) {
    const off = document.createElement('canvas');
    off.width = bitmap.width;
    off.height = bitmap.height;
    const octx = off.getContext('2d');
    octx.drawImage(bitmap, 0, 0);
    const data = octx.getImageData(0, 0, off.width, off.height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      const v = px[i] * 3;
      px[i] = LUT[v]; px[i + 1] = LUT[v + 1]; px[i + 2] = LUT[v + 2]; px[i + 3] = 255;
    }
    octx.putImageData(data, 0, 0);
    return off;
  }

  // ------------------------------------------------------------------ state -> controls

  function applyState(state) {
    server = Object.assign(server, state);
    document.body.dataset.version = String(server.version);
    $('undo').disabled = !server.can_undo;
    $('redo').disabled = !server.can_redo;
    ui.setting = server.setting;
    for (const b of document.querySelectorAll('#settings button')) {
      b.classList.toggle('on', b.dataset.setting === ui.setting);
    }
    const numeric = typeof ui.setting === 'number';
    $('value').parentElement.classList.toggle('on', numeric);
    if (numeric) {
      $('value').value = ui.setting;
      $('value-out').textContent = ui.setting.toFixed(2);
    }
  }

  function showControls() {
    for (const b of document.querySelectorAll('#modes button')) {
      b.classList.toggle('on', b.dataset.mode === ui.mode);
    }
    for (const b of document.querySelectorAll('#views button')) {
      b.classList.toggle('on', b.dataset.view === ui.view);
    }
    $('overlay').checked = ui.overlay;
    const photoScale = info.width / info.preview_width;
    $('size-out').textContent = Math.round(2 * ui.radius * photoScale) + ' px';
    $('strength-out').textContent = Math.round(ui.strength * 100) + '%';
    $('hardness-out').textContent = Math.round(ui.hardness * 100) + '%';
    $('strength').value = Math.round(ui.strength * 100);
    $('hardness').value = Math.round(ui.hardness * 100);
    $('size').value = String(Math.round(radiusToSlider(ui.radius)));
    $('zoom-level').textContent = Math.round(view.scale * 100) + '%';
  }

  // Brush size slider: logarithmic, from 1 preview pixel to half the preview.
  function radiusRange() {
    return [1, Math.max(8, Math.max(info.preview_width, info.preview_height) / 2)];
  }
  function sliderToRadius(s) {
    const [lo, hi] = radiusRange();
    return lo * Math.pow(hi / lo, s / 1000);
  }
  function radiusToSlider(r) {
    const [lo, hi] = radiusRange();
    return 1000 * Math.log(r / lo) / Math.log(hi / lo);
  }
  function setRadius(r) {
    const [lo, hi] = radiusRange();
    ui.radius = Math.min(hi, Math.max(lo, r));
    showControls();
    draw();
  }

  // ------------------------------------------------------------------ view

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * dpr);
    canvas.height = Math.round(canvas.clientHeight * dpr);
    if (view.fitted) fit();
    draw();
  }

  function fit() {
    const w = canvas.clientWidth, h = canvas.clientHeight, m = 24;
    const scale = Math.max(0.02, Math.min((w - m) / info.preview_width, (h - m) / info.preview_height));
    view.scale = scale;
    view.tx = (w - info.preview_width * scale) / 2;
    view.ty = (h - info.preview_height * scale) / 2;
    view.fitted = true;
    showControls();
  }

  function zoomAt(factor, sx, sy) {
    const scale = Math.min(32, Math.max(0.02, view.scale * factor));
    const ix = (sx - view.tx) / view.scale, iy = (sy - view.ty) / view.scale;
    view.scale = scale;
    view.tx = sx - ix * scale;
    view.ty = sy - iy * scale;
    view.fitted = false;
    showControls();
    draw();
  }

  function zoomCentre(factor) {
    zoomAt(factor, canvas.clientWidth / 2, canvas.clientHeight / 2);
  }

  function toImage(sx, sy) {
    return [(sx - view.tx) / view.scale, (sy - view.ty) / view.scale];
  }

  function splitX() {
    return ui.split * canvas.clientWidth;
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!images.before) return;
    ctx.imageSmoothingEnabled = view.scale < 3;
    ctx.imageSmoothingQuality = 'high';
    const iw = info.preview_width * view.scale, ih = info.preview_height * view.scale;
    const paint = (img) => img && ctx.drawImage(img, view.tx, view.ty, iw, ih);
    const after = images.after || images.before;
    if (ui.view === 'before') {
      paint(images.before);
    } else {
      paint(after);
      if (ui.overlay && images.map) {
        ctx.globalAlpha = 0.65;
        paint(images.map);
        ctx.globalAlpha = 1;
      }
      if (ui.view === 'split') {
        const x = splitX();
        ctx.save();
        ctx.beginPath();
        ctx.rect(0, 0, x, h);
        ctx.clip();
        paint(images.before);
        ctx.restore();
        drawDivider(x, h);
      }
    }
    drawCursor();
  }

  function label(text, x, y, align) {
    ctx.font = '600 11px system-ui, sans-serif';
    const tw = ctx.measureText(text).width;
    const bx = align === 'right' ? x - tw - 16 : x;
    ctx.fillStyle = 'rgba(20, 21, 24, 0.75)';
    ctx.fillRect(bx, y, tw + 16, 20);
    ctx.fillStyle = '#e4e5e7';
    ctx.fillText(text, bx + 8, y + 14);
  }

  function drawDivider(x, h) {
    ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
    ctx.fillRect(Math.round(x) - 1, 0, 2, h);
    ctx.beginPath();
    ctx.arc(x, h / 2, 13, 0, 2 * Math.PI);
    ctx.fillStyle = '#e4e5e7';
    ctx.fill();
    ctx.fillStyle = '#26282c';
    ctx.beginPath();
    ctx.moveTo(x - 9, h / 2); ctx.lineTo(x - 3, h / 2 - 5); ctx.lineTo(x - 3, h / 2 + 5);
    ctx.moveTo(x + 9, h / 2); ctx.lineTo(x + 3, h / 2 - 5); ctx.lineTo(x + 3, h / 2 + 5);
    ctx.fill();
    label('BEFORE', x - 10, 10, 'right');
    label('AFTER', x + 10, 10, 'left');
  }

  function drawCursor() {
    if (!pointer.inside || spaceDown || (drag && drag.kind !== 'paint') || overDivider(pointer.x, pointer.y)) return;
    const r = ui.radius * view.scale;
    ctx.lineWidth = 1;
    for (const [style, width] of [['rgba(0,0,0,0.7)', 3], ['rgba(255,255,255,0.95)', 1]]) {
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.arc(pointer.x, pointer.y, Math.max(r, 1), 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (ui.hardness > 0.02 && r * ui.hardness > 2) {
      ctx.setLineDash([3, 3]);
      ctx.strokeStyle = 'rgba(255,255,255,0.7)';
      ctx.beginPath();
      ctx.arc(pointer.x, pointer.y, r * ui.hardness, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const sign = { brighten: '+', darken: '\u2212', erase: '\u00d7' }[ui.mode];
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.fillStyle = 'rgba(255,255,255,0.95)';
    ctx.fillText(sign, pointer.x - 4, pointer.y + 4);
  }

  function overDivider(sx, sy) {
    if (ui.view !== 'split') return false;
    const dx = sx - splitX(), dy = sy - canvas.clientHeight / 2;
    return dx * dx + dy * dy <= 16 * 16;
  }

  // ------------------------------------------------------------------ painting

  // One stroke at a time: points gathered while a request is in flight go with the next.
  let stroke = null;

  function strokeBody(points, done) {
    return {
      stroke: stroke.id, points, radius: ui.radius, strength: ui.strength,
      hardness: ui.hardness, mode: ui.mode, done,
    };
  }

  function flushStroke() {
    if (!stroke || stroke.sending) return;
    if (!stroke.points.length && !stroke.ended) return;
    const points = stroke.points.splice(0, 4000);
    const done = stroke.ended && stroke.points.length === 0;
    const body = strokeBody(points, done);
    const current = stroke;
    current.sending = true;
    edit('/api/stroke', body).then(() => {
      current.sending = false;
      if (done) {
        if (stroke === current) stroke = null;
      } else {
        flushStroke();
      }
    });
  }

  function addPoint(sx, sy, last_one) {
    const [x, y] = toImage(sx, sy);
    const last = stroke.last;
    // Points closer than a fifth of the radius add little to the swept disc (the
    // stroke's end point always goes).
    const gap = last ? Math.hypot(x - last[0], y - last[1]) : Infinity;
    if (gap < (last_one ? 0.25 : Math.max(0.5, ui.radius * 0.2))) return;
    stroke.last = [x, y];
    stroke.points.push([Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
    flushStroke();
  }

  // ------------------------------------------------------------------ pointer

  function localXY(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener('pointerdown', (event) => {
    const [sx, sy] = localXY(event);
    canvas.setPointerCapture(event.pointerId);
    if (event.button === 1 || (event.button === 0 && spaceDown)) {
      drag = { kind: 'pan', sx, sy, tx: view.tx, ty: view.ty };
      canvas.classList.add('panning');
    } else if (event.button === 0 && overDivider(sx, sy)) {
      drag = { kind: 'split' };
    } else if (event.button === 0) {
      if (ui.view === 'before') setView('after');
      drag = { kind: 'paint' };
      stroke = { id: strokeId++, points: [], last: null, ended: false, sending: false };
      addPoint(sx, sy);
    }
    event.preventDefault();
  });

  canvas.addEventListener('pointermove', (event) => {
    const [sx, sy] = localXY(event);
    pointer.x = sx; pointer.y = sy; pointer.inside = true;
    if (drag && drag.kind === 'pan') {
      view.tx = drag.tx + sx - drag.sx;
      view.ty = drag.ty + sy - drag.sy;
      view.fitted = false;
    } else if (drag && drag.kind === 'split') {
      ui.split = Math.min(1, Math.max(0, sx / canvas.clientWidth));
    } else if (drag && drag.kind === 'paint' && stroke) {
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of events.length ? events : [event]) addPoint(...localXY(e));
    }
    canvas.style.cursor = overDivider(sx, sy) && !drag ? 'ew-resize' : '';
    draw();
  });

  function endDrag(event) {
    if (drag && drag.kind === 'paint' && stroke) {
      stroke.ended = true;
      if (event && event.type === 'pointerup') addPoint(...localXY(event), true);
      flushStroke();
    }
    drag = null;
    canvas.classList.remove('panning');
    draw();
  }

  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
  canvas.addEventListener('pointerleave', () => { pointer.inside = false; draw(); });
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    const [sx, sy] = localXY(event);
    zoomAt(Math.exp(-event.deltaY * (event.ctrlKey ? 0.01 : 0.0015)), sx, sy);
  }, { passive: false });

  // ------------------------------------------------------------------ controls

  function setView(name) {
    ui.view = name;
    showControls();
    draw();
  }

  function setMode(mode) {
    ui.mode = mode;
    showControls();
    draw();
  }

  async function setOverlay(on) {
    ui.overlay = on;
    showControls();
    if (on) {
      if (ui.view === 'before') setView('after');
      await enqueue(async () => {
        try { await loadMap(); } catch (err) { say(err.message, 'error'); }
      });
    }
    draw();
  }

  function save(overwrite) {
    say('Saving\u2026');
    $('save').disabled = true;
    return enqueue(async () => {
      try {
        const response = await post('/api/save', { overwrite: !!overwrite });
        if (response.status === 409) {
          const body = await response.json();
          if (window.confirm(body.error + '. Replace?')) {
            setTimeout(() => save(true), 0);
          } else {
            say('Not saved: ' + body.error, 'error');
          }
          return;
        }
        if (!response.ok) throw new Error(await errorOf(response));
        const body = await response.json();
        say('Saved ' + body.output + ' and ' + body.map_output + ' (' + body.seconds + ' s)', 'ok');
        document.body.dataset.saved = body.output;
      } catch (err) {
        say(err.message, 'error');
      } finally {
        $('save').disabled = false;
      }
    });
  }

  for (const b of document.querySelectorAll('#settings button')) {
    b.addEventListener('click', () => edit('/api/setting', { setting: b.dataset.setting }));
  }
  $('value').addEventListener('input', () => {
    $('value-out').textContent = Number($('value').value).toFixed(2);
  });
  $('value').addEventListener('change', () => edit('/api/setting', { setting: Number($('value').value) }));
  for (const b of document.querySelectorAll('#modes button')) {
    b.addEventListener('click', () => setMode(b.dataset.mode));
  }
  for (const b of document.querySelectorAll('#views button')) {
    b.addEventListener('click', () => setView(b.dataset.view));
  }
  $('size').addEventListener('input', () => setRadius(sliderToRadius(Number($('size').value))));
  $('strength').addEventListener('input', () => { ui.strength = Number($('strength').value) / 100; showControls(); });
  $('hardness').addEventListener('input', () => { ui.hardness = Number($('hardness').value) / 100; showControls(); draw(); });
  $('overlay').addEventListener('change', () => setOverlay($('overlay').checked));
  $('undo').addEventListener('click', () => edit('/api/undo'));
  $('redo').addEventListener('click', () => edit('/api/redo'));
  $('clear').addEventListener('click', () => edit('/api/clear'));
  $('save').addEventListener('click', () => save(false));
  $('zoom-in').addEventListener('click', () => zoomCentre(1.25));
  $('zoom-out').addEventListener('click', () => zoomCentre(0.8));
  $('zoom-fit').addEventListener('click', () => { fit(); draw(); });
  $('zoom-one').addEventListener('click', () => zoomCentre(1 / view.scale));
  // Buttons keep no focus, so that Space and the letter keys always reach the editor.
  for (const b of document.querySelectorAll('button')) {
    b.addEventListener('mouseup', () => b.blur());
  }

  // ------------------------------------------------------------------ keys

  window.addEventListener('keydown', (event) => {
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key;
    const lower = key.length === 1 ? key.toLowerCase() : key;
    let handled = true;
    if (mod && lower === 'z') {
      edit(event.shiftKey ? '/api/redo' : '/api/undo');
    } else if (mod && lower === 'y') {
      edit('/api/redo');
    } else if (mod && lower === 's') {
      save(false);
    } else if (mod && key === '0') {
      fit(); draw();
    } else if (mod && key === '1') {
      zoomCentre(1 / view.scale);
    } else if (mod && (key === '=' || key === '+')) {
      zoomCentre(1.25);
    } else if (mod && key === '-') {
      zoomCentre(0.8);
    } else if (mod || event.altKey) {
      handled = false;
    } else if (event.code === 'BracketLeft' || key === '[' || key === '{') {
      if (event.shiftKey) { ui.hardness = Math.max(0, ui.hardness - 0.1); showControls(); draw(); }
      else setRadius(ui.radius / 1.2);
    } else if (event.code === 'BracketRight' || key === ']' || key === '}') {
      if (event.shiftKey) { ui.hardness = Math.min(1, ui.hardness + 0.1); showControls(); draw(); }
      else setRadius(ui.radius * 1.2);
    } else if (key >= '0' && key <= '9' && event.target.tagName !== 'INPUT') {
      ui.strength = key === '0' ? 1 : Number(key) / 10;
      showControls();
    } else if (lower === 'b') {
      setMode('brighten');
    } else if (lower === 'd') {
      setMode('darken');
    } else if (lower === 'e') {
      setMode('erase');
    } else if (lower === 'x') {
      setMode(ui.mode === 'brighten' ? 'darken' : 'brighten');
    } else if (lower === 'o') {
      setOverlay(!ui.overlay);
    } else if (key === '\\') {
      setView(ui.view === 'before' ? 'after' : 'before');
    } else if (lower === 'y') {
      setView('split');
    } else if (key === ' ') {
      spaceDown = true;
      canvas.classList.add('pan');
      draw();
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  });

  window.addEventListener('keyup', (event) => {
    if (event.key === ' ') {
      spaceDown = false;
      canvas.classList.remove('pan');
      draw();
    }
  });

  window.addEventListener('resize', resize);
  window.addEventListener('blur', () => {
    spaceDown = false;
    canvas.classList.remove('pan');
  });

  // ------------------------------------------------------------------ start

  async function start() {
    try {
      const response = await fetch('/api/info', { cache: 'no-store' });
      if (!response.ok) throw new Error(await errorOf(response));
      Object.assign(info, await response.json());
      $('name').textContent = info.name;
      $('dims').textContent = info.width + ' \u00d7 ' + info.height;
      document.title = 'CuDi edit \u2013 ' + info.name;
      $('save').title = 'Save ' + info.output + ' and ' + info.map_output + ' (Ctrl+S)';
      document.querySelector('[data-setting=file]').hidden = !info.has_file_map;
      ui.radius = Math.max(info.preview_width, info.preview_height) * 0.06;
      applyState(info);
      showControls();
      resize();
      const original = await fetch('/api/original.jpg', { cache: 'no-store' });
      if (!original.ok) throw new Error(await errorOf(original));
      images.before = await createImageBitmap(await original.blob());
      draw();
      await enqueue(async () => {
        const state = await takePreview(await fetch('/api/preview.jpg', { cache: 'no-store' }));
        say('Ready. Paint to brighten (B) or darken (D); preview ' + Math.round(state.compute_ms) + ' ms');
      });
    } catch (err) {
      say('Cannot load the editor: ' + err.message, 'error');
    } finally {
      busy(-1);
    }
  }

  // Hooks for scripted checks: image pixel -> canvas CSS pixel, and back.
  window.cudiEdit = {
    toScreen: (x, y) => [x * view.scale + view.tx, y * view.scale + view.ty],
    toImage,
    setView,
    setSplit: (fraction) => { ui.split = Math.min(1, Math.max(0, fraction)); draw(); },
  };

  showControls();
  start();
})();
