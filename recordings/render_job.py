"""The playback rendering as its own process: ``python -m recordings.render_job MANIFEST DIR OUT``.

Rendering decodes and encodes video for minutes; in the server's process it would compete with the media
for the interpreter. The server's render worker (:mod:`recordings.jobs`) starts this module instead, at a
lower CPU priority, and reads its standard output: ``progress <fraction>`` lines while it works, then one
``result <json>`` line. The exit status is 0 when the rendering passed its check, 1 when it did not, and 2
when it could not be made at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from recordings.manifest import Manifest
from recordings.render import RenderOptions, check_rendering, render

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recordings.render_job")
    parser.add_argument("manifest", type=Path)
    parser.add_argument("directory", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--font", type=Path, default=None, help="a font with CJK glyphs for the names")
    args = parser.parse_args(argv)
    manifest_path, directory, output, font = args.manifest, args.directory, args.output, args.font
    try:
        manifest = Manifest.from_json(json.loads(manifest_path.read_text(encoding="utf-8")))
        result = render(
            manifest,
            directory,
            output,
            options=RenderOptions(font=font),
            progress=lambda fraction: print(f"progress {fraction:.4f}", flush=True),
        )
    except Exception as exc:  # everything goes back to the worker as a reason, not a traceback on a console
        print("result " + json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 2
    check = check_rendering(result.path, manifest.duration_ms)
    report = {
        "ok": check.ok,
        "error": check.reason,
        "file": result.path.name,
        "bytes": result.bytes,
        "sha256": result.sha256,
        "duration_ms": check.duration_ms,
        "video_frames": check.video_frames,
        "audio_ms": check.audio_ms,
    }
    print("result " + json.dumps(report), flush=True)
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
