'use strict';
// The signature pad: a canvas that records a hand-drawn signature with Pointer Events (mouse, touch, pen),
// shared by the party's signing page (/sign) and the mediator's form in the console.
//
// What it produces is what agreements/strokes.py parses: {"width", "height", "strokes"} — the canvas size in
// CSS pixels and the strokes in drawing order, each a list of points [x, y, t_ms] or [x, y, t_ms, pressure].
// t_ms counts from the signature's first point and never goes back; points stay on the canvas; pressure is
// given only where the device measures it (a pen, or a touch screen that reports more than the 0.5 every
// pressed pointer reports without it). The canvas is drawn at the screen's pixel density, and a change of
// size (a phone turned) rescales what was drawn.
//
//   const pad = window.TiaojieSignaturePad(canvas, {onchange: (pad) => …});
//   pad.isEmpty(); pad.undo(); pad.clear(); pad.toJSON(); pad.full  // 'points' | 'strokes' | 'time' | null
(function () {
  const MAX_STROKES = 200;
  const MAX_POINTS = 8000;
  const MAX_TIME_MS = 10 * 60 * 1000;
  const MIN_SIDE = 50;
  const MAX_SIDE = 4096;

  function round1(value) { return Math.round(value * 10) / 10; }

  function SignaturePad(canvas, options) {
    const onchange = (options && options.onchange) || function () {};
    const ink = (options && options.ink) || '#10243e';
    const ctx = canvas.getContext('2d');
    let strokes = [];       // [[x, y, t, pressure?], ...] per stroke
    let current = null;     // the stroke being drawn
    let pointerId = null;   // the one pointer drawing (a resting palm or a second finger is ignored)
    let t0 = null;          // performance-clock time of the signature's first point
    let lastT = 0;
    let width = 0;
    let height = 0;
    const pad = {full: null};

    function points() { return strokes.reduce((n, s) => n + s.length, 0); }

    function size() {
      const box = canvas.getBoundingClientRect();
      return [
        Math.max(MIN_SIDE, Math.min(MAX_SIDE, Math.round(box.width))),
        Math.max(MIN_SIDE, Math.min(MAX_SIDE, Math.round(box.height))),
      ];
    }

    function lineWidth(p) {
      return p === undefined ? 2.6 : 1.2 + 3.2 * p;
    }

    function segment(a, b) {
      ctx.lineWidth = lineWidth(b[3] !== undefined ? b[3] : a[3]);
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }

    function dot(p) {
      ctx.beginPath();
      ctx.arc(p[0], p[1], lineWidth(p[3]) / 2, 0, Math.PI * 2);
      ctx.fill();
    }

    function drawStroke(stroke) {
      if (stroke.length === 1) { dot(stroke[0]); return; }
      for (let i = 1; i < stroke.length; i++) { segment(stroke[i - 1], stroke[i]); }
    }

    function redraw() {
      const ratio = window.devicePixelRatio || 1;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.strokeStyle = ink;
      ctx.fillStyle = ink;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      strokes.forEach(drawStroke);
    }

    // The backing store follows the CSS size and the pixel density; what was drawn is rescaled to it.
    function fit() {
      const [w, h] = size();
      const ratio = window.devicePixelRatio || 1;
      if (width && height && (w !== width || h !== height)) {
        const sx = w / width, sy = h / height;
        strokes = strokes.map((s) => s.map((p) => {
          const q = [Math.min(w, round1(p[0] * sx)), Math.min(h, round1(p[1] * sy)), p[2]];
          if (p.length === 4) { q.push(p[3]); }
          return q;
        }));
      }
      width = w;
      height = h;
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      redraw();
    }

    function where(event) {
      const box = canvas.getBoundingClientRect();
      const x = (event.clientX - box.left) * (width / (box.width || width));
      const y = (event.clientY - box.top) * (height / (box.height || height));
      const point = [
        round1(Math.max(0, Math.min(width, x))),
        round1(Math.max(0, Math.min(height, y))),
        0,
      ];
      const stamp = event.timeStamp || performance.now();
      if (t0 === null) { t0 = stamp; }
      const t = Math.max(lastT, Math.round(stamp - t0));
      point[2] = t;
      const measured = event.pointerType === 'pen'
        || (event.pointerType === 'touch' && event.pressure > 0 && event.pressure !== 0.5);
      if (measured) { point.push(Math.round(Math.max(0, Math.min(1, event.pressure)) * 1000) / 1000); }
      return point;
    }

    function add(event) {
      if (current === null) { return; }
      if (points() >= MAX_POINTS) { pad.full = 'points'; return; }
      const point = where(event);
      if (point[2] > MAX_TIME_MS) { pad.full = 'time'; return; }
      const previous = current[current.length - 1];
      if (previous && previous[0] === point[0] && previous[1] === point[1]) { return; }
      lastT = point[2];
      current.push(point);
      if (previous) { segment(previous, point); } else { dot(point); }
    }

    function down(event) {
      if (pointerId !== null || (event.pointerType === 'mouse' && event.button !== 0)) { return; }
      if (strokes.length >= MAX_STROKES) { pad.full = 'strokes'; onchange(pad); return; }
      event.preventDefault();
      pointerId = event.pointerId;
      try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* not capturable: fine */ }
      current = [];
      strokes.push(current);
      add(event);
    }

    function move(event) {
      if (event.pointerId !== pointerId) { return; }
      event.preventDefault();
      const events = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
      (events.length ? events : [event]).forEach(add);
    }

    function up(event) {
      if (event.pointerId !== pointerId) { return; }
      if (event.type === 'pointerup') { add(event); }
      pointerId = null;
      if (current && current.length === 0) { strokes.pop(); }
      current = null;
      onchange(pad);
    }

    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointercancel', up);
    canvas.addEventListener('lostpointercapture', up);
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        const [w, h] = size();
        if (w !== width || h !== height) { fit(); }
      }).observe(canvas);
    }
    window.addEventListener('resize', () => {
      if (canvas.width !== Math.round(width * (window.devicePixelRatio || 1))) { fit(); }
    });

    function reset() {
      if (strokes.length === 0) { t0 = null; lastT = 0; }
      pad.full = null;
      redraw();
      onchange(pad);
    }

    pad.isEmpty = () => points() < 2;
    pad.points = points;
    pad.strokes = () => strokes.length;
    pad.undo = () => { strokes.pop(); reset(); };
    pad.clear = () => { strokes = []; reset(); };
    pad.toJSON = () => ({
      width: width,
      height: height,
      strokes: strokes.filter((s) => s.length > 0).map((s) => s.map((p) => p.slice())),
    });
    pad.fit = fit;
    fit();
    return pad;
  }

  window.TiaojieSignaturePad = SignaturePad;
})();
