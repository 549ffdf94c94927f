#!/usr/bin/env python3
"""Make Django signed-cookie session cookies for the Go tests.

Django itself makes every cookie: a view sets the session, Django's
SessionMiddleware with SESSION_ENGINE = signed_cookies saves it, and the
value of the "sessionid" cookie in its response is printed. Usage:

    python3 django_cookies.py SECRET_KEY WRONG_SECRET_KEY NOW
    python3 - SECRET_KEY WRONG_SECRET_KEY NOW < django_cookies.py

NOW is the Unix time to sign at. The output is one JSON object:

    plain       {"visits": 41, "user": "ada"}, not compressed
    compressed  the same plus a long note, zlib-compressed ('.' prefix)
    expired     plain, signed SESSION_COOKIE_AGE + 60 seconds before NOW
    tampered    plain with its payload replaced (visits 4100), same signature
    wrongkey    plain, signed with WRONG_SECRET_KEY
    accepts     for each cookie above, whether Django itself loads it at NOW
    max_age     SESSION_COOKIE_AGE, in seconds
    django      Django's version
"""

import base64
import json
import sys
from unittest import mock

import django
from django.conf import settings


def main():
    secret, wrong, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
    settings.configure(
        SECRET_KEY=secret,
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        INSTALLED_APPS=["django.contrib.sessions"],
    )
    django.setup()

    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.test.utils import override_settings

    def make(data, at, key=secret):
        def view(request):
            request.session.update(data)
            return HttpResponse("ok")

        with override_settings(SECRET_KEY=key), mock.patch("time.time", return_value=at):
            response = SessionMiddleware(view)(RequestFactory().get("/"))
        return response.cookies[settings.SESSION_COOKIE_NAME].value

    session = {"visits": 41, "user": "ada"}
    age = settings.SESSION_COOKIE_AGE
    plain = make(session, now)
    compressed = make(dict(session, note="all work and no play " * 40), now)
    assert not plain.startswith("."), plain
    assert compressed.startswith("."), compressed

    forged = base64.urlsafe_b64encode(
        json.dumps(dict(session, visits=4100), separators=(",", ":")).encode()
    ).rstrip(b"=").decode()
    tampered = forged + plain[plain.index(":"):]

    cookies = {
        "plain": plain,
        "compressed": compressed,
        "expired": make(session, now - age - 60),
        "tampered": tampered,
        "wrongkey": make(session, now, key=wrong),
    }
    with mock.patch("time.time", return_value=now):
        # load() gives {} for a cookie it rejects.
        accepts = {k: SessionStore(session_key=v).load() != {} for k, v in cookies.items()}
    json.dump({
        **cookies,
        "accepts": accepts,
        "max_age": age,
        "django": django.get_version(),
    }, sys.stdout)


if __name__ == "__main__":
    main()
