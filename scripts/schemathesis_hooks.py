"""Schemathesis signs in as the API's own clients do (scripts/api-check.sh).

Some operations end sessions, the administrator's own among them (ending
an account's sessions, signing out everywhere), so a token is fetched
again whenever one is refused: a 401 is retried once with a fresh
sign-in. Signing out goes as a plain account, so it never ends the
administrator's session in the middle of another operation. Wrong
passwords the fuzzer sends to re-authentication count against the
account as they should, so a sign-in that meets the account lock waits
for the time the server names and tries again.
"""

import os
import time

import requests
import schemathesis

BASE = os.environ["GATEHOUSE_API_CHECK_BASE"]
PASSWORD = os.environ["GATEHOUSE_API_CHECK_PASSWORD"]


def sign_in(username):
    for _ in range(30):
        res = requests.post(f"{BASE}/api/login", json={"username": username, "password": PASSWORD}, timeout=30)
        if res.status_code != 429:
            break
        time.sleep(min(float(res.headers.get("Retry-After", "1")), 5))
    res.raise_for_status()
    return res.json()["access_token"]


class Bearer:
    username = ""

    def get(self, case, ctx):
        return sign_in(self.username)

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.auth(refresh_interval=60).skip_for(path_regex="^/api/logout")
class Administrator(Bearer):
    username = "api-admin"


@schemathesis.auth(refresh_interval=60).apply_to(path_regex="^/api/logout")
class PlainAccount(Bearer):
    username = "api-user"
