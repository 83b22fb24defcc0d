"""recordings.manifest: a stable digest, and every kind of later change to files or manifest detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recordings.manifest import Manifest, ProblemKind, TrackEntry, manifest_digest, verify_files
from recordings.segments import SegmentInfo, file_sha256

Recorded = tuple[Path, dict[str, Any], str]


def write(root: Path, name: str, content: bytes) -> SegmentInfo:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return SegmentInfo(0, name, 0, 1000, 30, len(content), file_sha256(path))


@pytest.fixture
def recorded(tmp_path: Path) -> Recorded:
    camera = [write(tmp_path, f"camera-000{i}.webm", bytes([i]) * (100 + i)) for i in range(2)]
    mic = write(tmp_path, "mic-0000.webm", b"opus" * 50)
    manifest = Manifest(
        recording_id="rec_1",
        session_id="ses_1",
        case_id="cas_1",
        part="main",
        label="主会场",
        started_at="2026-03-02T09:00:00+08:00",
        ended_at="2026-03-02T09:30:00+08:00",
        interrupted=False,
        participants=({"id": "prt_1", "role": "applicant", "name": "张三"},),
        tracks=(
            TrackEntry("trk_1", "prt_1", "video", "camera", "vp8", tuple(camera)),
            TrackEntry("trk_2", "prt_1", "audio", "audio", "opus", (mic,)),
        ),
    )
    document = manifest.to_json()
    return tmp_path, document, manifest.digest()


def test_digest_is_canonical_and_round_trips(recorded: Recorded) -> None:
    _, document, digest = recorded
    shuffled = json.loads(json.dumps(document, sort_keys=False))
    shuffled = dict(reversed(list(shuffled.items())))
    assert manifest_digest(shuffled) == digest
    assert Manifest.from_json(document).digest() == digest
    assert len(digest) == 64


def test_an_intact_recording_verifies(recorded: Recorded) -> None:
    root, document, digest = recorded
    assert verify_files(document, digest, root) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("flip", ProblemKind.CONTENT_CHANGED),
        ("truncate", ProblemKind.SIZE_CHANGED),
        ("delete", ProblemKind.FILE_MISSING),
        ("add", ProblemKind.UNLISTED_FILE),
        ("edit_manifest", ProblemKind.MANIFEST_CHANGED),
    ],
)
def test_every_change_is_found(recorded: Recorded, change: str, problem: ProblemKind) -> None:
    root, document, digest = recorded
    target = root / "camera-0001.webm"
    if change == "flip":
        data = bytearray(target.read_bytes())
        data[50] ^= 0x01
        target.write_bytes(bytes(data))
    elif change == "truncate":
        target.write_bytes(target.read_bytes()[:-1])
    elif change == "delete":
        target.unlink()
    elif change == "add":
        (root / "camera-0002.webm").write_bytes(b"smuggled")
    else:
        document["tracks"][0]["segments"][1]["sha256"] = file_sha256(root / "mic-0000.webm")
    problems = verify_files(document, digest, root)
    assert [p.kind for p in problems][:1] == [problem]
    if change != "edit_manifest":
        assert problems[0].file is not None


def test_a_manifest_that_cannot_be_read_is_changed(recorded: Recorded) -> None:
    root, document, digest = recorded
    del document["tracks"]
    assert [p.kind for p in verify_files(document, digest, root)] == [ProblemKind.MANIFEST_CHANGED]
    with pytest.raises(ValueError, match="version"):
        Manifest.from_json({**document, "version": 99})
