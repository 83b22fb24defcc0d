// Active speaker, measured in this browser: the audio level of each received audio track (getStats
// inbound-rtp audioLevel, mapped to its publisher through the subscribe offer's mid → track table) and of
// our own microphone (media-source audioLevel). The server never decodes audio.
const THRESHOLD = 0.04; // audioLevel is 0..1 (linear); quiet rooms sit below 0.01
const HOLD_MS = 1500; // keep the highlight this long after the speaker's level last went above it

// Pure: who speaks now, given the levels measured ({id: level}) and the previous decision.
export function pickSpeaker(levels, previous, now) {
  let best = null;
  let loudest = THRESHOLD;
  for (const [id, level] of Object.entries(levels)) {
    if (level >= loudest) {
      best = id;
      loudest = level;
    }
  }
  if (best) return { id: best, since: now };
  if (previous && previous.id && now - previous.since < HOLD_MS) return previous;
  return { id: null, since: now };
}

// Polls the connections every `interval` ms and calls onChange(publisherId | "self" | null) when the
// speaker changes. get() returns {publishPc, subscribePc, tracks, selfSilent}. Returns a function that stops it.
export function watchSpeakers(get, onChange, interval = 300) {
  let current = { id: null, since: 0 };
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const { publishPc, subscribePc, tracks, selfSilent } = get();
      const levels = {};
      if (subscribePc) {
        (await subscribePc.getStats()).forEach((report) => {
          if (report.type !== "inbound-rtp" || report.kind !== "audio") return;
          const info = report.mid != null ? tracks[report.mid] : null;
          if (info && typeof report.audioLevel === "number") {
            levels[info.publisher_id] = Math.max(levels[info.publisher_id] || 0, report.audioLevel);
          }
        });
      }
      if (publishPc && !selfSilent) {
        (await publishPc.getStats()).forEach((report) => {
          if (report.type === "media-source" && report.kind === "audio" && typeof report.audioLevel === "number") {
            levels.self = Math.max(levels.self || 0, report.audioLevel);
          }
        });
      }
      const next = pickSpeaker(levels, current, performance.now());
      if (next.id !== current.id) onChange(next.id);
      current = next;
    } catch (error) {
      // a connection closed between two polls: the next poll sees the new ones
    } finally {
      busy = false;
    }
  }, interval);
  return () => clearInterval(timer);
}
