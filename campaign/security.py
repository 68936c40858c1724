"""Security headers on every response."""

from flask import Flask


def csp(form_action: str = "") -> str:
    """The Content-Security-Policy; ``form_action`` adds a form target origin.

    No inline scripts or styles, nothing from other origins, never framed.
    """
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            f"form-action 'self' {form_action}".strip(),
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


CSP = csp()


def register(app: Flask) -> None:
    """Add the security headers to every response."""
    hsts = app.config["HSTS"]

    @app.after_request
    def security_headers(response):
        """Set CSP, framing, referrer and (in production) HSTS headers."""
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Supporters may be at risk: never tell other sites where they came from.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if hsts:
            headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        return response
