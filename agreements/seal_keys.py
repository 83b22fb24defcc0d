"""The service's sealing key and certificate: the configured ones, or a development pair made once.

A deployment sets ``TIAOJIE_SEAL_KEY`` and ``TIAOJIE_SEAL_CERT`` (PEM; the key may be encrypted with
``TIAOJIE_SEAL_KEY_PASSPHRASE``), the issuing chain in ``TIAOJIE_SEAL_CHAIN`` and the roots that
verification trusts in ``TIAOJIE_SEAL_TRUST_ROOTS`` (default: the last certificate of the chain, or the
certificate itself when it is self-signed). Without them, a development pair is generated on first use
under ``data_dir/seal/``: a self-signed CA and a sealing certificate it issued (ECDSA P-256). The CA's key
is never written; the sealing key is readable by its owner only. Several processes starting at once agree on
one pair (it is written to a temporary directory and renamed into place; the loser's is thrown away).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data

from tiaojie.errors import InvalidInput

__all__ = ["DEV_DIR", "SealKeys", "development_pair", "load_seal_keys"]

DEV_DIR = "seal"
_KEY, _CERT, _CA = "seal-key.pem", "seal-cert.pem", "seal-ca.pem"


@dataclass(frozen=True, slots=True)
class SealKeys:
    """What sealing signs with and what verification trusts."""

    key: asn1_keys.PrivateKeyInfo
    cert: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]  # issuers of ``cert``, embedded in every seal
    trust_roots: tuple[asn1_x509.Certificate, ...]
    development: bool  # the generated pair: fine for trying the service, not for court use


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tiaojie (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _usage(**allowed: bool) -> x509.KeyUsage:
    """A key usage extension allowing only what is named."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def _make_pair(now: datetime) -> tuple[bytes, bytes, bytes]:
    """(sealing key PEM, sealing certificate PEM, CA certificate PEM)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("tiaojie development sealing CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("tiaojie development seal"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, _pem(cert), _pem(ca)


def development_pair(data_dir: Path, *, now: datetime | None = None) -> Path:
    """The directory holding the development pair under ``data_dir``, made on the first call."""
    final = data_dir / DEV_DIR
    if (final / _KEY).is_file():
        return final
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=data_dir))  # mode 0700
    try:
        key_pem, cert_pem, ca_pem = _make_pair(now or datetime.now(UTC))
        fd = os.open(staging / _KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        (staging / _CERT).write_bytes(cert_pem)
        (staging / _CA).write_bytes(ca_pem)
        try:
            os.rename(staging, final)
        except OSError:
            if not (final / _KEY).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} {path}: {exc.strerror}", code="invalid_config") from None


def _certs(paths: tuple[Path, ...], what: str) -> tuple[asn1_x509.Certificate, ...]:
    found: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            certs = list(load_certs_from_pemder_data(_read(path, what)))
        except ValueError:
            certs = []
        if not certs:
            raise InvalidInput(f"the {what} {path} holds no certificate", code="invalid_config")
        found.extend(certs)
    return tuple(found)


def load_seal_keys(
    *,
    data_dir: Path,
    key: Path | None = None,
    cert: Path | None = None,
    chain: tuple[Path, ...] = (),
    passphrase: str | None = None,
    trust_roots: tuple[Path, ...] = (),
) -> SealKeys:
    """The configured key and certificate, or the development pair under ``data_dir``. Raises InvalidInput
    ``invalid_config`` when the files cannot be read or do not belong together."""
    development = key is None and cert is None
    if development:
        where = development_pair(data_dir)
        key, cert, chain, passphrase = where / _KEY, where / _CERT, (where / _CA,), None
    if key is None or cert is None:
        raise InvalidInput("set both TIAOJIE_SEAL_KEY and TIAOJIE_SEAL_CERT", code="invalid_config")
    try:
        private = load_private_key_from_pemder_data(
            _read(key, "sealing key"), passphrase=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError):
        raise InvalidInput(
            f"cannot load the sealing key {key} (wrong passphrase or not a private key)",
            code="invalid_config",
        ) from None
    own = _certs((cert,), "sealing certificate")[0]
    issuers = _certs(chain, "certificate chain")
    public = serialization.load_der_private_key(private.dump(), password=None).public_key()
    if (
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        != own.public_key.dump()
    ):
        raise InvalidInput(
            "the sealing key does not belong to the sealing certificate", code="invalid_config"
        )
    roots = _certs(trust_roots, "trust root") if trust_roots else (issuers[-1] if issuers else own,)
    return SealKeys(key=private, cert=own, chain=issuers, trust_roots=roots, development=development)
