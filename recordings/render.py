"""The playback rendering: one file a person can watch, made from a recording's tracks after the session.

The recording itself keeps one stream-copied file per track and segment (faithful, but not something to
watch). Rendering decodes them and makes one MP4 (H.264 + AAC, ``faststart`` so a browser can stream it): a
grid with one tile per camera or screen share, each labelled with the person's name and role, people heard
but not seen as a labelled empty tile, the session's wall-clock time in a corner, and everyone's audio mixed
(FFmpeg's ``amix``). It is CPU work for a background process, never for the server's event loop.

A tile shows the latest frame at or before the output time, so a short network gap freezes the picture
instead of leaving it black; after a track's last frame the tile goes dark. Audio gaps (a muted microphone
sends nothing) are filled with silence so that the mix stays in step.

:func:`check_rendering` decodes the finished file end to end and compares its duration with the manifest's:
a rendering is "ready" only after that check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from PIL import Image, ImageDraw, ImageFont

from recordings.manifest import Manifest, TrackEntry
from recordings.segments import file_sha256

__all__ = [
    "FONT_CANDIDATES",
    "RenderCheck",
    "RenderOptions",
    "RenderResult",
    "check_rendering",
    "grid",
    "render",
]

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
ROLE_LABELS = {
    "mediator": "调解员",
    "applicant": "申请人",
    "respondent": "被申请人",
    "judge": "法官",
    "interpreter": "翻译",
    "clerk": "书记员",
    "observer": "旁听",
}
AUDIO_ONLY = "仅音频 audio only"
_AUDIO_RATE = 48_000
_AAC_FRAME = 1024
_LABEL_HEIGHT = 28


@dataclass(frozen=True, slots=True)
class RenderOptions:
    width: int = 1280
    height: int = 720
    fps: int = 15
    font: Path | None = None
    crf: int = 26


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: Path
    duration_ms: int
    video_frames: int
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class RenderCheck:
    ok: bool
    duration_ms: int
    video_frames: int
    audio_ms: int
    reason: str | None = None


def grid(count: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """``count`` tiles (x, y, w, h) filling a width × height frame in near-square rows; even numbers only."""
    if count <= 0:
        return []
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    tile_w = (width // columns) & ~1
    tile_h = (height // rows) & ~1
    tiles = []
    for index in range(count):
        row, column = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        offset = ((width - in_row * tile_w) // 2) & ~1  # centre a shorter last row
        top = ((height - rows * tile_h) // 2) & ~1
        tiles.append((offset + column * tile_w, top + row * tile_h, tile_w, tile_h))
    return tiles


def _fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    scale = min(box_w / src_w, box_h / src_h)
    return max(2, int(src_w * scale) & ~1), max(2, int(src_h * scale) & ~1)


def _paste(target: av.VideoFrame, source: av.VideoFrame, x: int, y: int) -> None:
    """Copy a yuv420p frame into another at (x, y), both even: row by row, plane by plane."""
    for index, (dst, src) in enumerate(zip(target.planes, source.planes, strict=True)):
        shift = 0 if index == 0 else 1
        dx, dy = x >> shift, y >> shift
        width, height = src.width, src.height
        out, inp = memoryview(dst), memoryview(src)
        out_stride, in_stride = dst.line_size, src.line_size
        for row in range(height):
            start = (dy + row) * out_stride + dx
            begin = row * in_stride
            out[start : start + width] = inp[begin : begin + width]


class _Labels:
    """Text drawn with Pillow into yuv420p frames (white on a dark bar), cached by text and width."""

    def __init__(self, font_path: Path | None) -> None:
        size = _LABEL_HEIGHT - 8
        chosen = font_path or next((Path(p) for p in FONT_CANDIDATES if Path(p).is_file()), None)
        self.font: ImageFont.FreeTypeFont | ImageFont.ImageFont
        if chosen is not None:
            self.font = ImageFont.truetype(str(chosen), size)
        else:
            self.font = ImageFont.load_default(size)
        self.has_cjk = chosen is not None
        self._cache: dict[tuple[str, int], av.VideoFrame] = {}

    def frame(self, text: str, width: int) -> av.VideoFrame:
        key = (text, width)
        cached = self._cache.get(key)
        if cached is None:
            image = Image.new("RGB", (width, _LABEL_HEIGHT), (24, 24, 24))
            ImageDraw.Draw(image).text((8, 4), text, font=self.font, fill=(240, 240, 240))
            cached = av.VideoFrame.from_image(image).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = cached
        return cached


def _label_for(manifest: Manifest, track: TrackEntry | None, participant_id: str) -> str:
    person = next((p for p in manifest.participants if p.get("id") == participant_id), {})
    role = ROLE_LABELS.get(person.get("role", ""), person.get("role", ""))
    name = person.get("name", participant_id)
    suffix = " · 屏幕共享" if track is not None and track.source == "screen" else ""
    return f"{name}（{role}）{suffix}" if role else f"{name}{suffix}"


def _decoded(directory: Path, track: TrackEntry) -> Iterator[tuple[int, av.VideoFrame | av.AudioFrame]]:
    """Every decodable frame of a track in time order, with its time on the recording's timeline (ms)."""
    for segment in track.segments:
        try:
            container = av.open(str(directory / segment.file))
        except (av.error.FFmpegError, OSError):
            continue
        with container:
            stream = container.streams[0]
            stream.codec_context.thread_type = "AUTO"
            try:
                for frame in container.decode(stream):
                    if isinstance(frame, av.VideoFrame | av.AudioFrame) and frame.time is not None:
                        yield round(frame.time * 1000), frame
            except av.error.FFmpegError:
                continue  # a damaged tail: keep what decoded


class _VideoTile:
    def __init__(self, directory: Path, track: TrackEntry | None, box: tuple[int, int, int, int]) -> None:
        self.box = box
        self.frames = _decoded(directory, track) if track is not None else iter(())
        self.end_ms = track.end_ms if track is not None else 0
        self.audio_only = track is None
        self._pending: tuple[int, av.VideoFrame] | None = None
        self._shown: av.VideoFrame | None = None
        self._exhausted = track is None

    def picture(self, at_ms: int) -> av.VideoFrame | None:
        """The tile's picture at ``at_ms``, fitted to the tile, or None for a dark tile."""
        latest: av.VideoFrame | None = None
        while not self._exhausted:
            if self._pending is None:
                item = next(self.frames, None)
                if item is None:
                    self._exhausted = True
                    break
                time, frame = item
                assert isinstance(frame, av.VideoFrame)
                self._pending = (time, frame)
            time, frame = self._pending
            if time > at_ms:
                break
            latest = frame
            self._pending = None
        if latest is not None:
            _, _, w, h = self.box
            fw, fh = _fit(latest.width, latest.height, w, h - _LABEL_HEIGHT)
            self._shown = latest.reformat(
                width=fw, height=fh, format="yuv420p", interpolation="FAST_BILINEAR"
            )
        if at_ms > self.end_ms:
            self._shown = None
        return self._shown


class _AudioMix:
    """Every audio track decoded, gaps filled with silence, mixed by FFmpeg's amix, cut into AAC frames."""

    def __init__(self, directory: Path, tracks: Sequence[TrackEntry]) -> None:
        self.graph = av.filter.Graph()
        self.sources = []
        for index, _track in enumerate(tracks):
            self.sources.append(
                self.graph.add_abuffer(
                    format="s16",
                    sample_rate=_AUDIO_RATE,
                    layout="stereo",
                    time_base=Fraction(1, _AUDIO_RATE),
                    name=f"in{index}",
                )
            )
        mix = self.graph.add("amix", inputs=str(len(tracks)), duration="longest", normalize="0")
        shape = self.graph.add(
            "aformat", sample_fmts="fltp", sample_rates=str(_AUDIO_RATE), channel_layouts="stereo"
        )
        sink = self.graph.add("abuffersink")
        for index, source in enumerate(self.sources):
            source.link_to(mix, 0, index)
        mix.link_to(shape)
        shape.link_to(sink)
        self.graph.configure()
        self.graph.set_audio_frame_size(_AAC_FRAME)
        self.streams = [_decoded(directory, track) for track in tracks]
        self.resamplers = [av.AudioResampler(format="s16", layout="stereo", rate=_AUDIO_RATE) for _ in tracks]
        self.written = [0 for _ in tracks]  # samples pushed per input
        self.pending: list[tuple[int, av.AudioFrame] | None] = [None for _ in tracks]
        self.done = [False for _ in tracks]

    def _push(self, index: int, frame: av.AudioFrame) -> None:
        frame.pts = self.written[index]
        frame.time_base = Fraction(1, _AUDIO_RATE)
        self.written[index] += frame.samples
        self.graph.push(frame, index)

    def _silence(self, index: int, samples: int) -> None:
        while samples > 0:
            count = min(samples, _AUDIO_RATE)
            frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
            frame.sample_rate = _AUDIO_RATE
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            self._push(index, frame)
            samples -= count

    def feed_until(self, until_ms: int) -> None:
        """Push every input up to ``until_ms`` (decoded audio, or silence where there was none)."""
        goal = until_ms * _AUDIO_RATE // 1000
        for index, stream in enumerate(self.streams):
            while self.written[index] < goal:
                if self.pending[index] is None and not self.done[index]:
                    item = next(stream, None)
                    if item is None:
                        self.done[index] = True
                    else:
                        assert isinstance(item[1], av.AudioFrame)
                        self.pending[index] = (item[0], item[1])
                pending = self.pending[index]
                if pending is None:
                    self._silence(index, goal - self.written[index])
                    break
                start = pending[0] * _AUDIO_RATE // 1000
                if start > self.written[index] + 48:  # more than a millisecond of gap: fill it
                    self._silence(index, min(start, goal) - self.written[index])
                    if start >= goal:
                        break
                    continue
                self.pending[index] = None
                for out in self.resamplers[index].resample(pending[1]):
                    self._push(index, out)

    def pull(self) -> list[av.AudioFrame]:
        frames: list[av.AudioFrame] = []
        while True:
            try:
                frame = self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return frames
            assert isinstance(frame, av.AudioFrame)
            frames.append(frame)

    def finish(self) -> list[av.AudioFrame]:
        for source in self.sources:
            source.push(None)
        return self.pull()


def render(
    manifest: Manifest,
    directory: Path,
    output: Path,
    *,
    options: RenderOptions | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderResult:
    """Render ``manifest``'s tracks (files under ``directory``) into ``output``; see the module's docstring.

    Writes to a temporary name first and renames at the end, so a half-rendered file is never mistaken for a
    finished one. ``progress`` gets a fraction in [0, 1] about once a second of output.
    """
    opts = options or RenderOptions()
    duration_ms = manifest.duration_ms
    if duration_ms <= 0:
        raise ValueError("the recording has no media to render")
    videos = [t for t in manifest.tracks if t.kind == "video" and t.segments]
    audios = [t for t in manifest.tracks if t.kind == "audio" and t.segments]
    seen = {t.participant_id for t in videos if t.source == "camera"}
    heard_only = sorted({t.participant_id for t in audios} - seen)
    order: list[tuple[TrackEntry | None, str]] = [(t, t.participant_id) for t in videos]
    order += [(None, pid) for pid in heard_only]
    boxes = grid(len(order), opts.width, opts.height)
    tiles = [_VideoTile(directory, track, box) for (track, _), box in zip(order, boxes, strict=True)]
    labels = _Labels(opts.font)
    names = [_label_for(manifest, track, pid) for track, pid in order]
    started = datetime.fromisoformat(manifest.started_at)
    mix = _AudioMix(directory, audios) if audios else None

    temporary = output.with_name(output.name + ".partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(temporary), "w", format="mp4", options={"movflags": "+faststart"})
    video = container.add_stream("libx264", rate=opts.fps)
    video.width, video.height = opts.width, opts.height
    video.pix_fmt = "yuv420p"
    video.options = {"preset": "superfast", "crf": str(opts.crf), "g": str(opts.fps * 2)}
    video.codec_context.thread_type = "AUTO"  # the rendering has the machine to itself, at low priority
    audio = container.add_stream("aac", rate=_AUDIO_RATE) if mix is not None else None
    if audio is not None:
        audio.layout = "stereo"
        audio.options = {"aac_coder": "fast"}
    template = av.VideoFrame(opts.width, opts.height, "yuv420p")  # black: Y 16, U and V 128
    background = [bytes([16 if i == 0 else 128]) * p.buffer_size for i, p in enumerate(template.planes)]
    total = duration_ms * opts.fps // 1000
    frames_out = 0
    try:
        for tick in range(total):
            at_ms = tick * 1000 // opts.fps
            canvas = av.VideoFrame(opts.width, opts.height, "yuv420p")
            for plane, fill in zip(canvas.planes, background, strict=True):
                plane.update(fill)
            for tile, name in zip(tiles, names, strict=True):
                x, y, w, h = tile.box
                picture = tile.picture(at_ms)
                if picture is not None:
                    px = x + ((w - picture.width) // 2 & ~1)
                    py = y + ((h - _LABEL_HEIGHT - picture.height) // 2 & ~1)
                    _paste(canvas, picture, px, py)
                elif tile.audio_only and w >= 160:
                    _paste(
                        canvas, labels.frame(AUDIO_ONLY, 160), x + ((w - 160) // 2 & ~1), y + (h // 2 & ~1)
                    )
                _paste(canvas, labels.frame(name, w), x, y + h - _LABEL_HEIGHT)
            stamp = (started + timedelta(milliseconds=at_ms)).strftime("%Y-%m-%d %H:%M:%S")
            _paste(canvas, labels.frame(stamp, 240), opts.width - 240, 0)
            canvas.pts = tick
            canvas.time_base = Fraction(1, opts.fps)
            for packet in video.encode(canvas):
                container.mux(packet)
            frames_out += 1
            if mix is not None and audio is not None:
                mix.feed_until(at_ms + 1000 // opts.fps)
                for frame in mix.pull():
                    for packet in audio.encode(frame):
                        container.mux(packet)
            if progress is not None and tick % opts.fps == 0:
                progress(tick / total)
        for packet in video.encode(None):
            container.mux(packet)
        if mix is not None and audio is not None:
            for frame in mix.finish():
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
    finally:
        container.close()
    temporary.replace(output)
    if progress is not None:
        progress(1.0)
    return RenderResult(
        path=output,
        duration_ms=frames_out * 1000 // opts.fps,
        video_frames=frames_out,
        bytes=output.stat().st_size,
        sha256=file_sha256(output),
    )


def check_rendering(path: Path, expected_ms: int, *, tolerance: float = 0.02) -> RenderCheck:
    """Decode the rendered file end to end; it passes when video (and audio, if any) last as long as the
    recording, within ``tolerance`` (and at least one output frame)."""
    video_frames = 0
    video_end = audio_end = 0.0
    has_audio = False
    try:
        with av.open(str(path)) as container:
            streams: list[Any] = list(container.streams.video) + list(container.streams.audio)
            has_audio = bool(container.streams.audio)
            for frame in container.decode(*streams):
                if frame.time is None:
                    continue
                if isinstance(frame, av.VideoFrame):
                    video_frames += 1
                    video_end = max(video_end, frame.time)
                elif isinstance(frame, av.AudioFrame):
                    audio_end = max(audio_end, frame.time + frame.samples / frame.sample_rate)
    except (av.error.FFmpegError, OSError) as exc:
        return RenderCheck(False, 0, video_frames, 0, f"the file does not decode: {exc}")
    duration_ms = round(video_end * 1000)
    audio_ms = round(audio_end * 1000)
    slack = max(expected_ms * tolerance, 200)
    if video_frames == 0:
        return RenderCheck(False, 0, 0, audio_ms, "no video frame decoded")
    if abs(duration_ms - expected_ms) > slack:
        return RenderCheck(
            False,
            duration_ms,
            video_frames,
            audio_ms,
            f"video lasts {duration_ms} ms, expected {expected_ms}",
        )
    if has_audio and abs(audio_ms - expected_ms) > slack:
        return RenderCheck(
            False, duration_ms, video_frames, audio_ms, f"audio lasts {audio_ms} ms, not {expected_ms}"
        )
    return RenderCheck(True, duration_ms, video_frames, audio_ms)
