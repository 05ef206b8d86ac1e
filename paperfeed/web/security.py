"""Security headers on every response: a strict Content-Security-Policy and friends.

No inline script or style anywhere, so the policy allows only this origin's files; paper text
that slips markup past escaping still cannot run or load anything. When the site is served over
https (`public_url`), browsers are told to keep to it (HSTS). Pages reached by a secret link
(sign-in, confirm, preferences, unsubscribe, vote) are never stored by a browser or a proxy,
so the back button or a shared cache cannot show them to the next person.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NO_STORE = (b"cache-control", b"no-store")
SECRET_LINK_PATHS = (
    "/sign-in/confirm",
    "/subscribe/confirm/",
    "/subscription/",
    "/unsubscribe/",
    "/digest/vote/",
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A response that set its own policy (the mail preview) keeps it.
                if any(name == b"content-security-policy" for name, _ in headers):
                    extra = [h for h in HEADERS if h[0] != b"content-security-policy"]
                else:
                    extra = list(HEADERS)
                if self.https:
                    extra.append(HSTS)
                secret = scope["path"].startswith(SECRET_LINK_PATHS)
                if secret and not any(name == b"cache-control" for name, _ in headers):
                    extra.append(NO_STORE)
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
