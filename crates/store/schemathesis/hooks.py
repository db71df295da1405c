"""Schemathesis hooks for the store's contract run (`cargo xtask test`): a session of a test
account, signed in again whenever a call ended it (a session belongs to the one computer that
registers with it, so registering a second device ends it; so does signing out)."""

import json
import os
import urllib.request

import schemathesis

STORE = os.environ["MARQUEE_STORE_URL"]
EMAIL = os.environ.get("MARQUEE_SCHEMATHESIS_EMAIL", "schemathesis@example.com")
PASSWORD = os.environ.get("MARQUEE_SCHEMATHESIS_PASSWORD", "schemathesis")


@schemathesis.auth()
class Session:
    """A fresh session when there is none yet or the store answered 401."""

    def get(self, case, context):
        request = urllib.request.Request(
            f"{STORE}/api/v1/sessions",
            data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)["token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
