"""The sealing's parts without a server: verification codes, masked names, the per-address limit, the keys
(development pair and configured ones), the assembled document (deterministic), the seal read back by the
verification core, and the verdict for every combination of findings."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pypdf import PdfReader, PdfWriter

from agreements.certificate import SealFacts
from agreements.evidence import AuthMethod, Evidence, SignatureEvidence, TrailEntry
from agreements.pdf import DEFAULT_FONT, render
from agreements.seal_keys import SealKeys, development_pair, load_seal_keys
from agreements.sealing import assemble, build_sealed
from agreements.verification import FileFindings, Problem, SealCheck, Verdict, judge, read_file
from agreements.verification_codes import grouped, new_code, normalise
from tests.agreements.sealhelp import signature_png
from tests.agreements.test_text_and_versions import COMPLETE, needs_font, text_of
from tiaojie.errors import InvalidInput, RateLimited, UnsupportedMediaType
from tiaojie.masking import mask_name
from tiaojie.settings import load_settings
from web.api.verify import VerifyLimits

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


# --- codes, names, limits ---------------------------------------------------------------------------


def test_codes_are_16_unambiguous_characters_and_forgive_how_they_are_typed() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert normalise(code) == code
        assert len(code) == 16
        assert not set(code) & set("ILOU")
        assert normalise(grouped(code).lower()) == code
    assert grouped("0123456789ABCDEF") == "0123-4567-89AB-CDEF"
    assert normalise(" o123 4567-89ab-cdef ") == "0123456789ABCDEF"
    assert normalise("I1L1-0000-0000-0000") == "1111000000000000"
    for bad in (
        "",
        "0123",
        "0123456789ABCDEFG",
        "0123456789ABCDEU",
        "０１２３４５６７８９ＡＢＣＤＥＦ",
        "x" * 100,
    ):
        assert normalise(bad) is None, bad


def test_names_are_masked_for_public_pages() -> None:
    assert [
        mask_name(n) for n in ("张三", "王小明", "欧阳小明", " 焦作某机械有限公司 ", "John Smith", "A", "")
    ] == [
        "张*",
        "王**",
        "欧***",
        "焦作*****公司",
        "Jo******th",
        "A*",
        "",
    ]


def test_the_verify_limit_is_per_caller_and_refills() -> None:
    limits = VerifyLimits(per_minute=3, max_callers=2)
    for _ in range(3):
        limits.take("a", now=100.0)
    with pytest.raises(RateLimited):
        limits.take("a", now=100.0)
    limits.take("b", now=100.0)  # another caller has a budget of its own
    limits.take("a", now=120.0)  # one more after 20 s (3 a minute)
    with pytest.raises(RateLimited):
        limits.take("a", now=120.0)
    limits.take("c", now=120.0)  # "b" is forgotten (least recently used), "a" kept
    limits.take("b", now=120.0)
    assert len(limits._buckets) == 2


# --- keys ---------------------------------------------------------------------------------------------


def test_the_development_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    first = load_seal_keys(data_dir=data_dir)
    where = development_pair(data_dir)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert stat.S_IMODE((where / "seal-key.pem").stat().st_mode) == 0o600
    assert sorted(p.name for p in where.iterdir()) == ["seal-ca.pem", "seal-cert.pem", "seal-key.pem"]
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".seal-")]  # no staging left behind
    second = load_seal_keys(data_dir=data_dir)
    assert first.development
    assert second.cert.dump() == first.cert.dump()
    assert first.trust_roots == first.chain  # the development CA
    assert first.cert.issuer == first.chain[0].subject


def _rsa_pair(tmp_path: Path, passphrase: bytes | None) -> tuple[Path, Path, Path]:
    """A CA and a sealing certificate it issued, as a deployment would configure them."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test court CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试法院电子印章")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .sign(ca_key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    paths = (tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "ca.pem")
    paths[0].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths


def test_configured_keys_load_with_their_passphrase_and_are_checked(tmp_path: Path) -> None:
    key, cert, ca = _rsa_pair(tmp_path, b"s3cret")
    keys = load_seal_keys(data_dir=tmp_path / "var", key=key, cert=cert, chain=(ca,), passphrase="s3cret")
    assert not keys.development
    assert keys.trust_roots[0].subject.human_friendly == "Common Name: Test court CA"
    assert not (tmp_path / "var").exists()  # no development pair made
    with pytest.raises(InvalidInput) as wrong:
        load_seal_keys(data_dir=tmp_path, key=key, cert=cert, passphrase="nope")
    assert wrong.value.code == "invalid_config"
    other = tmp_path / "other"
    other.mkdir()
    _, other_cert, _ = _rsa_pair(other, None)
    with pytest.raises(InvalidInput, match="does not belong"):
        load_seal_keys(data_dir=tmp_path, key=key, cert=other_cert, passphrase="s3cret")
    with pytest.raises(InvalidInput, match="cannot read"):
        load_seal_keys(data_dir=tmp_path, key=tmp_path / "missing.pem", cert=cert)
    with pytest.raises(InvalidInput, match="holds no certificate"):
        load_seal_keys(data_dir=tmp_path, key=key, cert=key, passphrase="s3cret")
    with pytest.raises(InvalidInput, match="TIAOJIE_SEAL_CERT"):
        load_settings({"TIAOJIE_SEAL_KEY": str(key)})
    settings = load_settings(
        {"TIAOJIE_SEAL_KEY": str(key), "TIAOJIE_SEAL_CERT": str(cert), "TIAOJIE_SEAL_CHAIN": f"{ca}, {ca}"}
    )
    assert settings.seal_chain == (ca, ca)


# --- the document ---------------------------------------------------------------------------------------


@functools.cache
def agreement_pdf() -> bytes:
    return render(text_of(COMPLETE), number=1, frozen_at=NOW)


def evidence(document: bytes | None = None, **changes: object) -> Evidence:
    pdf = document if document is not None else agreement_pdf()
    digest = hashlib.sha256(pdf).hexdigest()
    signatures = tuple(
        SignatureEvidence(
            signer_id=f"p{i}",
            name=name,
            role=role,
            signed_at=NOW + timedelta(minutes=i),
            auth_method=method,
            image_png=signature_png(i),
            ip="127.0.0.1",
            user_agent="test",
        )
        for i, (name, role, method) in enumerate(
            [("当事人p1", "worker", AuthMethod.ONE_TIME_CODE), ("王调解", "mediator", AuthMethod.IN_SESSION)]
        )
    )
    trail = (TrailEntry(1, NOW, "王调解", "request_signatures", "account", None, None, digest, "a" * 64),)
    made = Evidence(
        case_id="cas_1",
        case_number="（2026）豫0802民诉前调7号",
        court_name="焦作市解放区人民法院",
        organisation_name="解放区劳动争议调解委员会",
        version_id="agv_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
        version_number=1,
        document_pdf=pdf,
        document_sha256=digest,
        effective_at=NOW + timedelta(minutes=1),
        signatures=signatures,
        trail=trail,
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


FACTS = SealFacts(
    code="0123-4567-89AB-CDEF",
    verify_url="http://127.0.0.1:8080/verify#0123-4567-89AB-CDEF",
    sealed_at=NOW + timedelta(minutes=5),
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SealKeys:
    return load_seal_keys(data_dir=tmp_path_factory.mktemp("keys"))


@needs_font
def test_the_assembled_document_is_deterministic_and_keeps_the_agreement() -> None:
    first = assemble(evidence(), FACTS, font=DEFAULT_FONT)
    assert assemble(evidence(), FACTS, font=DEFAULT_FONT) == first
    reader = PdfReader(io.BytesIO(first))
    assert reader.attachments["agreement.pdf"] == [evidence().document_pdf]
    assert (
        reader.pages[0].extract_text()
        == PdfReader(io.BytesIO(evidence().document_pdf)).pages[0].extract_text()
    )
    later = dataclasses.replace(FACTS, sealed_at=FACTS.sealed_at + timedelta(seconds=1))
    assert assemble(evidence(), later, font=DEFAULT_FONT) != first


@needs_font
def test_an_uploaded_agreement_of_another_producer_is_merged_page_for_page(keys: SealKeys) -> None:
    writer = PdfWriter()
    for size in ((200, 300), (300, 200), (612, 792)):
        writer.add_blank_page(*size)
    out = io.BytesIO()
    writer.write(out)
    sealed = build_sealed(evidence(out.getvalue()), FACTS, keys, font=DEFAULT_FONT)
    pages = PdfReader(io.BytesIO(sealed)).pages
    assert [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages[:3]] == [
        (200, 300),
        (300, 200),
        (612, 792),
    ]
    findings = read_file(sealed, keys.trust_roots)
    assert (findings.seal.valid, findings.seal.trusted, findings.seal.whole_file) == (True, True, True)


@needs_font
def test_unreadable_evidence_is_refused_with_a_code(keys: SealKeys) -> None:
    bad_image = evidence()
    broken = dataclasses.replace(bad_image.signatures[0], image_png=b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(InvalidInput) as image:
        build_sealed(dataclasses.replace(bad_image, signatures=(broken,)), FACTS, keys, font=DEFAULT_FONT)
    assert image.value.code == "bad_signature_image"
    with pytest.raises(InvalidInput) as document:
        build_sealed(evidence(b"%PDF-1.7\ngarbage\n%%EOF\n"), FACTS, keys, font=DEFAULT_FONT)
    assert document.value.code == "unreadable_agreement"
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InvalidInput, match="encrypted"):
        build_sealed(evidence(out.getvalue()), FACTS, keys, font=DEFAULT_FONT)


@needs_font
def test_the_seal_is_read_back_and_trusted_only_against_its_root(keys: SealKeys, tmp_path: Path) -> None:
    sealed = build_sealed(evidence(), FACTS, keys, font=DEFAULT_FONT)
    findings = read_file(sealed, keys.trust_roots)
    assert findings.sha256 == hashlib.sha256(sealed).hexdigest()
    assert (findings.claimed_code, findings.claimed_version_id) == ("0123456789ABCDEF", evidence().version_id)
    assert findings.attached_sha256 == evidence().document_sha256
    assert findings.seal == SealCheck(
        count=1,
        valid=True,
        trusted=True,
        whole_file=True,
        signer=keys.cert.subject.human_friendly,
    )
    stranger = load_seal_keys(data_dir=tmp_path)  # another deployment's development pair
    assert read_file(sealed, stranger.trust_roots).seal.trusted is False
    # Signed by another key that the service does not trust: valid, untrusted.
    forged = build_sealed(evidence(), FACTS, stranger, font=DEFAULT_FONT)
    seal = read_file(forged, keys.trust_roots).seal
    assert (seal.valid, seal.trusted) == (True, False)
    for bad, error in (
        (b"", InvalidInput),
        (b"GIF89a", UnsupportedMediaType),
        (sealed[:-2000], InvalidInput),
    ):
        with pytest.raises(error):
            read_file(bad, keys.trust_roots)


# --- the verdict ----------------------------------------------------------------------------------------

GOOD = FileFindings(
    sha256="f" * 64,
    size=1,
    claimed_code="0123456789ABCDEF",
    claimed_version_id="agv_x",
    attached_sha256="d" * 64,
    seal=SealCheck(count=1, valid=True, trusted=True, whole_file=True, signer="x"),
)


@pytest.mark.parametrize(
    ("findings", "record", "verdict", "problems"),
    [
        (GOOD, ("f" * 64, "d" * 64), Verdict.INTACT, ()),
        (GOOD, (None, None), Verdict.ALTERED, (Problem.NOT_ON_RECORD,)),
        (GOOD, ("e" * 64, "d" * 64), Verdict.ALTERED, (Problem.FILE_CHANGED,)),
        (
            dataclasses.replace(GOOD, seal=SealCheck()),
            (None, None),
            Verdict.UNKNOWN,
            (Problem.NOT_ON_RECORD, Problem.SEAL_MISSING),
        ),
        (
            dataclasses.replace(GOOD, seal=SealCheck(count=2)),
            ("f" * 64, "d" * 64),
            Verdict.ALTERED,
            (Problem.EXTRA_SIGNATURES,),
        ),
        (
            dataclasses.replace(GOOD, seal=SealCheck(count=1, valid=False, trusted=True, whole_file=True)),
            ("f" * 64, "d" * 64),
            Verdict.ALTERED,
            (Problem.SEAL_BROKEN,),
        ),
        (
            dataclasses.replace(GOOD, seal=SealCheck(count=1, valid=True, trusted=False, whole_file=True)),
            (None, None),
            Verdict.UNKNOWN,
            (Problem.NOT_ON_RECORD, Problem.SEAL_UNTRUSTED),
        ),
        (
            dataclasses.replace(GOOD, seal=SealCheck(count=1, valid=True, trusted=True, whole_file=False)),
            ("e" * 64, "d" * 64),
            Verdict.ALTERED,
            (Problem.FILE_CHANGED, Problem.CHANGED_AFTER_SEALING),
        ),
        (
            dataclasses.replace(GOOD, attached_sha256=None),
            ("f" * 64, "d" * 64),
            Verdict.ALTERED,
            (Problem.DOCUMENT_HASH_MISMATCH,),
        ),
    ],
)
def test_the_verdict(
    findings: FileFindings,
    record: tuple[str | None, str | None],
    verdict: Verdict,
    problems: tuple[Problem, ...],
) -> None:
    judged = judge(findings, record_sha256=record[0], record_document_sha256=record[1])
    assert (judged.verdict, judged.problems) == (verdict, problems)
