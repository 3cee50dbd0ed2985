"""A SAML 2.0 identity provider for tests: Debian's SimpleSAMLphp under `php -S` on loopback.

Each `SamlIdp` writes a private SimpleSAMLphp configuration (found through
SIMPLESAMLPHP_CONFIG_DIR, so /etc is never touched), a fresh signing key and one remote
SP, the portal. Users sign in on SimpleSAMLphp's own username/password page
(exampleauth:UserPass). Attributes are released as InCommon IdPs send them: urn:oid
names (core:AttributeMap name2oid) with the uri NameFormat; see ATTRIBUTE_OIDS.

The IdP's session cookies are scoped to /simplesaml/: browsers do not separate cookies
by port, and the portal runs on 127.0.0.1 too.
"""

import base64
import datetime
import functools
import hashlib
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.idp.processes import stop
from tests.pg import free_port

SIMPLESAMLPHP = Path("/usr/share/simplesamlphp")
# Debian ships SimpleSAMLphp's attribute maps (name2oid and the rest) as conffiles here.
ATTRIBUTE_MAPS = Path("/etc/simplesamlphp/attributemap")
# The PHP extensions SimpleSAMLphp cannot do without, and the Debian packages holding them.
PHP_EXTENSIONS = {"dom": "php-xml", "openssl": "php-cli", "zlib": "php-cli"}

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
URI_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

# The names under which the IdP releases the usual attributes (from name2oid.php).
# Any other attribute name in SamlUser.attributes that name2oid knows is mapped too;
# one it does not know is sent under the name given.
ATTRIBUTE_OIDS = {
    "eduPersonPrincipalName": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    "eduPersonAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "eduPersonScopedAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
    "eduPersonUniqueId": "urn:oid:1.3.6.1.4.1.5923.1.1.1.13",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
    "givenName": "urn:oid:2.5.4.42",
    "sn": "urn:oid:2.5.4.4",
    "uid": "urn:oid:0.9.2342.19200300.100.1.1",
    # Many campuses release the student number as employeeNumber.
    "employeeNumber": "urn:oid:2.16.840.1.113730.3.1.3",
}

AUTH_SOURCE = "campus-userpass"
# Holds each user's NameID value between authentication and the NameID filter; it is
# removed before attributes are released.
NAME_ID_ATTRIBUTE = "crpTestNameID"
START_TIMEOUT_S = 30.0


@dataclass
class SamlUser:
    username: str
    password: str
    attributes: dict[str, list[str]]
    # The persistent NameID the IdP sends for this user; derived from the username when
    # empty, so it is the same across logins, IdP instances and test runs.
    name_id: str = ""

    def __post_init__(self) -> None:
        if ":" in self.username:
            raise ValueError("exampleauth:UserPass usernames cannot contain ':'")
        if not self.name_id:
            digest = hashlib.sha256(f"crp-test-idp:{self.username}".encode()).digest()
            self.name_id = base64.b64encode(digest[:21]).decode()


def php_literal(value: object, indent: str = "") -> str:
    """`value` (None, bool, int, str, list or dict of those) as a PHP literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    inner = indent + "    "
    if isinstance(value, list | tuple):
        items = [php_literal(item, inner) for item in value]
    elif isinstance(value, dict):
        items = [f"{php_literal(k)} => {php_literal(v, inner)}" for k, v in value.items()]
    else:
        raise TypeError(f"no PHP literal for {value!r}")
    if not items:
        return "[]"
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + indent + "]"


def write_php(path: Path, variable: str, entries: dict) -> None:
    body = "".join(
        f"${variable}[{php_literal(k)}] = {php_literal(v)};\n" for k, v in entries.items()
    )
    path.write_text(f"<?php\n// Written by tests/idp/saml.py.\n${variable} = [];\n{body}")


@functools.cache
def saml_idp_available() -> str | None:
    """None when the IdP can run here, else why not."""
    php = shutil.which("php")
    if php is None:
        return "php not installed (apt-get install php-cli)"
    if not (SIMPLESAMLPHP / "www" / "saml2" / "idp" / "SSOService.php").exists():
        return f"SimpleSAMLphp not installed in {SIMPLESAMLPHP} (apt-get install simplesamlphp)"
    if not (ATTRIBUTE_MAPS / "name2oid.php").exists():
        return f"SimpleSAMLphp's attribute maps missing from {ATTRIBUTE_MAPS}"
    check = 'foreach ($argv as $i => $e) if ($i && !extension_loaded($e)) echo "$e ";'
    result = subprocess.run(
        [php, "-r", check, "--", *PHP_EXTENSIONS], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return f"php -r failed: {result.stderr.strip()}"
    if missing := result.stdout.split():
        packages = " ".join(sorted({PHP_EXTENSIONS[name] for name in missing}))
        return f"PHP extensions missing: {' '.join(missing)} (apt-get install {packages})"
    return None


def self_signed_certificate(common_name: str) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def sp_key_files(folder: Path) -> tuple[Path, Path, str]:
    """A service provider's signing key and certificate written to `folder`: the key's
    path, the certificate's path and the certificate's PEM."""
    key_pem, cert_pem = self_signed_certificate("CRP Portal SP")
    (folder / "sp.key").write_text(key_pem)
    (folder / "sp.crt").write_text(cert_pem)
    return folder / "sp.key", folder / "sp.crt", cert_pem


def pem_body(cert_pem: str) -> str:
    """The base64 of a PEM certificate, as SAML metadata and SimpleSAMLphp's certData hold it."""
    return "".join(line for line in cert_pem.strip().splitlines() if "-----" not in line)


class SamlIdp:
    """SimpleSAMLphp as a SAML 2.0 IdP on a free loopback port; a context manager."""

    def __init__(
        self,
        workdir: Path,
        sp_entity_id: str,
        sp_acs_url: str,
        sp_slo_url: str | None,
        sp_cert_pem: str | None,
        users: list[SamlUser],
        sign_assertions: bool = True,
        name_id_format: str = PERSISTENT,
        *,
        sign_responses: bool = True,
        require_signed_requests: bool = False,
    ) -> None:
        if name_id_format not in (PERSISTENT, TRANSIENT, EMAIL):
            raise ValueError(f"unsupported NameID format {name_id_format}")
        if require_signed_requests and not sp_cert_pem:
            raise ValueError("require_signed_requests needs sp_cert_pem")
        self.workdir = Path(workdir)
        self.sp_entity_id = sp_entity_id
        self.sp_acs_url = sp_acs_url
        self.sp_slo_url = sp_slo_url
        self.sp_cert_pem = sp_cert_pem
        self.users = list(users)
        self.sign_assertions = sign_assertions
        self.sign_responses = sign_responses
        self.name_id_format = name_id_format
        self.require_signed_requests = require_signed_requests
        self.key_pem, self.cert_pem = self_signed_certificate("CRP Portal test IdP")
        self.port = 0
        self._process: subprocess.Popen | None = None

    # URLs, valid once the IdP has started.

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simplesaml/"

    @property
    def metadata_url(self) -> str:
        return self.base_url + "saml2/idp/metadata.php"

    @property
    def entity_id(self) -> str:
        return self.metadata_url

    @property
    def sso_url(self) -> str:
        return self.base_url + "saml2/idp/SSOService.php"

    @property
    def slo_url(self) -> str:
        return self.base_url + "saml2/idp/SingleLogoutService.php"

    def logout_url(self, return_to: str) -> str:
        """IdP-initiated logout: ends the IdP session, logs the SP out, then goes to return_to."""
        return self.slo_url + "?" + urllib.parse.urlencode({"ReturnTo": return_to})

    @property
    def log_path(self) -> Path:
        return self.workdir / "log" / "php-server.log"

    def server_output(self) -> str:
        """php -S's request log and PHP errors, then SimpleSAMLphp's own log."""
        logs = [self.log_path, self.workdir / "log" / "simplesamlphp.log"]
        return "\n".join(p.read_text(errors="replace") for p in logs if p.exists())

    def metadata_xml(self) -> str:
        with urllib.request.urlopen(self.metadata_url, timeout=10) as response:  # noqa: S310
            return response.read().decode()

    # Starting and stopping.

    def __enter__(self) -> "SamlIdp":
        reason = saml_idp_available()
        if reason:
            raise RuntimeError(reason)
        for attempt in range(3):
            self.port = free_port()
            self._write_files()
            try:
                self._start()
                return self
            except PortTaken:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def _start(self) -> None:
        env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(self.workdir / "config")}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [shutil.which("php") or "php", "-S", f"127.0.0.1:{self.port}", "-t", "docroot"],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self._stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                output = self.server_output()
                if "Address already in use" in output:
                    raise PortTaken(output)
                raise RuntimeError(
                    f"php -S exited with {self._process.returncode} before the IdP answered:\n"
                    + output
                )
            if self._metadata_answers():
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"the IdP did not answer {self.metadata_url} within {START_TIMEOUT_S:.0f} s:\n"
            + self.server_output()
        )

    def _metadata_answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.metadata_url, timeout=5) as response:  # noqa: S310
                return response.status == 200 and b"IDPSSODescriptor" in response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(
                f"{self.metadata_url} answered {error.code}:\n{self.server_output()}"
            ) from error
        except OSError:
            return False

    def _stop(self) -> None:
        process, self._process = self._process, None
        stop(process, grace_seconds=5)

    # The private SimpleSAMLphp directory.

    def _write_files(self) -> None:
        for sub in ("config/metadata", "cert", "log", "data", "temp", "sessions", "docroot"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        www = self.workdir / "docroot" / "simplesaml"
        if not www.is_symlink():
            www.symlink_to(SIMPLESAMLPHP / "www")
        key = self.workdir / "cert" / "idp.key"
        key.write_text(self.key_pem)
        key.chmod(0o600)
        (self.workdir / "cert" / "idp.crt").write_text(self.cert_pem)
        config = self.workdir / "config"
        write_php(config / "config.php", "config", self._config())
        write_php(config / "authsources.php", "config", self._authsources())
        write_php(config / "metadata" / "saml20-idp-hosted.php", "metadata", self._idp_hosted())
        write_php(config / "metadata" / "saml20-sp-remote.php", "metadata", self._sp_remote())

    def _config(self) -> dict:
        work = self.workdir
        cookies = {"path": "/simplesaml/", "secure": False, "samesite": "Lax"}
        return {
            "baseurlpath": self.base_url,
            "certdir": f"{work}/cert/",
            "loggingdir": f"{work}/log/",
            "datadir": f"{work}/data/",
            "tempdir": f"{work}/temp",
            "metadatadir": f"{work}/config/metadata/",
            "attributenamemapdir": f"{ATTRIBUTE_MAPS}/",
            "secretsalt": secrets.token_urlsafe(32),
            "auth.adminpassword": secrets.token_urlsafe(16),
            "admin.protectindexpage": True,
            "admin.protectmetadata": False,
            "admin.checkforupdates": False,
            "technicalcontact_name": "CRP Portal tests",
            "technicalcontact_email": "idp-admin@example.edu",
            "timezone": "UTC",
            "trusted.url.domains": [self._sp_host()],
            "enable.saml20-idp": True,
            "module.enable": {"exampleauth": True, "core": True, "saml": True},
            "showerrors": True,
            "errorreporting": False,
            "logging.level": 6,  # \SimpleSAML\Logger::INFO
            "logging.handler": "file",
            "logging.logfile": "simplesamlphp.log",
            "store.type": "phpsession",
            "session.phpsession.savepath": f"{work}/sessions",
            "session.phpsession.cookiename": "SimpleSAML",
            "session.cookie.path": cookies["path"],
            "session.cookie.secure": cookies["secure"],
            "session.cookie.samesite": cookies["samesite"],
            "language.cookie.path": cookies["path"],
            "language.cookie.secure": cookies["secure"],
            "language.cookie.samesite": cookies["samesite"],
        }

    def _sp_host(self) -> str:
        """The SP's host:port, where IdP-initiated logout may send the browser afterwards."""
        return urllib.parse.urlsplit(self.sp_acs_url).netloc

    def _authsources(self) -> dict:
        userpass: dict[object, object] = {0: "exampleauth:UserPass"}
        for user in self.users:
            attributes = {name: list(values) for name, values in user.attributes.items()}
            attributes[NAME_ID_ATTRIBUTE] = [user.name_id]
            userpass[f"{user.username}:{user.password}"] = attributes
        return {"admin": ["core:AdminPassword"], AUTH_SOURCE: userpass}

    def _idp_hosted(self) -> dict:
        bindings = [HTTP_REDIRECT, HTTP_POST]
        return {
            self.entity_id: {
                "host": "__DEFAULT__",
                "privatekey": "idp.key",
                "certificate": "idp.crt",
                "auth": AUTH_SOURCE,
                "NameIDFormat": [self.name_id_format],
                "SingleSignOnServiceBinding": bindings,
                "SingleLogoutServiceBinding": bindings,
                "attributes.NameFormat": URI_NAME_FORMAT,
                "saml20.sign.assertion": self.sign_assertions,
                "saml20.sign.response": self.sign_responses,
                "sign.logout": True,
                "authproc": self._authproc(),
            }
        }

    def _authproc(self) -> dict:
        filters: dict[int, object] = {}
        source = {PERSISTENT: NAME_ID_ATTRIBUTE, EMAIL: "mail"}.get(self.name_id_format)
        if source:
            filters[10] = {
                "class": "saml:AttributeNameID",
                "Format": self.name_id_format,
                "attribute": source,
                "NameQualifier": True,
            }
        filters[20] = {"class": "core:PHP", "code": f"unset($attributes['{NAME_ID_ATTRIBUTE}']);"}
        filters[30] = {"class": "core:AttributeMap", 0: "name2oid"}
        return filters

    def _sp_remote(self) -> dict:
        sp: dict[str, object] = {
            "AssertionConsumerService": [
                {"Binding": HTTP_POST, "Location": self.sp_acs_url, "index": 0}
            ],
            "NameIDFormat": self.name_id_format,
            "validate.authnrequest": self.require_signed_requests,
            "validate.logout": self.require_signed_requests,
        }
        if self.sp_slo_url:
            sp["SingleLogoutService"] = [{"Binding": HTTP_REDIRECT, "Location": self.sp_slo_url}]
        if self.sp_cert_pem:
            sp["certData"] = pem_body(self.sp_cert_pem)
        return {self.sp_entity_id: sp}


class PortTaken(RuntimeError):
    """php -S could not bind the port it was given (another process took it meanwhile)."""
