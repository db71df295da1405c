"""Schemathesis hooks for the store's contract run (`cargo xtask test`): a session of a test
account, signed in again whenever a call ended it (a session belongs to the one computer that
registers with it, so registering a second device ends it; so does signing out)."""

import json
import os
import time
import urllib.error
import urllib.request

import schemathesis

STORE = os.environ["MARQUEE_STORE_URL"]
EMAIL = os.environ.get("MARQUEE_SCHEMATHESIS_EMAIL", "schemathesis@example.com")
PASSWORD = os.environ.get("MARQUEE_SCHEMATHESIS_PASSWORD", "schemathesis")
# The hooks sign in as a client of their own (the store trusts X-Forwarded-For from loopback in
# this run): the fuzzer's wrong passwords from 127.0.0.1 never use up the hooks' sign-in limit.
# A documentation address (RFC 5737) only ever written in a header, never connected to.
CLIENT = "198.51.100.7"


@schemathesis.auth()
class Session:
    """A fresh session when there is none yet or the store answered 401."""

    def get(self, case, context):
        request = urllib.request.Request(
            f"{STORE}/api/v1/sessions",
            data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": CLIENT},
        )
        # Every hashing slot can be busy with the fuzzer's sign-ins for a moment (429 with
        # Retry-After): wait and ask again, as a client would.
        last = None
        for _ in range(30):
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return json.load(answer)["token"]
            except urllib.error.HTTPError as e:
                last = f"{e.code} {e.read().decode(errors='replace')}"
                if e.code != 429:
                    break
                time.sleep(min(float(e.headers.get("Retry-After") or 1), 1.0))
            except OSError as e:
                last = repr(e)
                time.sleep(0.5)
        raise RuntimeError(f"the store refused the test account's sign-in: {last}")

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
