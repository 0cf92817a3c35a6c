"""`shiftwork up` serves the REST API on 127.0.0.1: HTTP requests become API Gateway (HTTP API, v2) events for
the same Lambda handler AWS runs (functions.api), behind a bearer token kept in the state directory.

It can also check AWS Signature Version 4 as an HTTP API with IAM authorisation does (given the credentials it
accepts), so that clients signing their requests are tested against a server that verifies them."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def api_token(state_dir: Path) -> str:
    """The token clients send as `Authorization: Bearer ...`; made on first use, readable by its owner only."""
    path = state_dir / "api-token"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _is_utf8(data: bytes) -> bool:
    """API Gateway hands text as text; bytes that are not UTF-8 go base64-encoded, whatever the content type."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def to_event(request: Request) -> dict[str, Any]:
    """An API Gateway HTTP API payload (version 2.0) for the request."""
    body = request.get_data()
    text_like = (request.mimetype or "").startswith(("application/json", "text/")) and _is_utf8(body)
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode(),
        "headers": {key.lower(): value for key, value in request.headers.items()},
        "queryStringParameters": {k: ",".join(request.args.getlist(k)) for k in request.args} or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": (body.decode() if text_like else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and not text_like,
    }


SIGV4_MAX_SKEW_SECONDS = 300  # API Gateway refuses a signature more than 5 minutes from its clock


def sigv4_refusal(request: Request, access_key: str, secret_key: str) -> str | None:
    """Why a SigV4-signed request is refused (None: the signature is good), as API Gateway IAM auth would check."""
    from datetime import UTC, datetime

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    header = request.headers.get("Authorization", "")
    parts = header.removeprefix("AWS4-HMAC-SHA256 ").split(",")
    fields = dict(part.strip().split("=", 1) for part in parts if "=" in part)
    try:
        key_id, _day, region, service, _terminator = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        offered = fields["Signature"]
        stamp = request.headers["X-Amz-Date"]
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return "malformed Authorization header"
    if key_id != access_key or service != "execute-api":
        return "The security token included in the request is invalid"
    if abs((datetime.now(UTC) - when).total_seconds()) > SIGV4_MAX_SKEW_SECONDS:
        return "Signature expired"
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    copy = AWSRequest(
        method=request.method,
        url=f"http://{request.host}{raw_uri}",
        headers={name: request.headers.get(name, "") for name in signed if name != "host"},
        data=request.get_data(),
    )
    copy.context["timestamp"] = stamp
    auth = SigV4Auth(Credentials(access_key, secret_key), "execute-api", region)
    expected = auth.signature(auth.string_to_sign(copy, auth.canonical_request(copy)), copy)
    if not hmac.compare_digest(expected, offered):
        return "The request signature we calculated does not match the signature you provided"
    return None


def _refused(status: int, message: str) -> Response:
    error = {401: "Unauthorized", 403: "Forbidden"}[status]
    return Response(json.dumps({"error": error, "message": message}), status=status, mimetype="application/json")


class HttpApi:
    def __init__(self, token: str, port: int = 0, iam_credentials: tuple[str, str] | None = None) -> None:
        self.token = token
        self.iam_credentials = iam_credentials
        self._server = make_server("127.0.0.1", port, self, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="http-api"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> HttpApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        offered = request.headers.get("Authorization", "")
        if self.iam_credentials and offered.startswith("AWS4-HMAC-SHA256 "):
            refusal = sigv4_refusal(request, *self.iam_credentials)
            if refusal:
                return _refused(403, refusal)(environ, start_response)
        elif not hmac.compare_digest(offered, f"Bearer {self.token}"):
            return _refused(401, "send Authorization: Bearer <the state dir's api-token>")(environ, start_response)
        from shiftwork.local.lambdas import invoke

        result = invoke("api", to_event(request))
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        response = Response(data, status=result.get("statusCode", 200))
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = value
        for key, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(key, value)
        return response(environ, start_response)
