"""A client generated from openapi/openapi.json drives the API the way an integrator would.

Run by tests/contract/run.sh with the generated package `client` on PYTHONPATH and the base URL
as the only argument. Exits non-zero, naming the step, when anything differs from the spec.
"""
import sys
import uuid

from client import AuthenticatedClient, Client
from client.api.accounts import login, me, register
from client.api.catalog import get_product, list_products
from client.models import LoginRequest, Problem, ProductList, RegisterRequest, TokenResponse, User


def check(step, condition, detail=""):
    if not condition:
        print(f"generated client: {step} failed {detail}")
        sys.exit(1)
    print(f"generated client: {step} ok")


def main(base):
    anon = Client(base_url=base, raise_on_unexpected_status=True)
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    password = "generated clients work 42"

    r = register.sync_detailed(client=anon, body=RegisterRequest(email=email, password=password))
    check("register", r.status_code == 201 and isinstance(r.parsed, TokenResponse), r.status_code)

    r = login.sync_detailed(client=anon, body=LoginRequest(email=email, password=password))
    check("login", r.status_code == 200 and isinstance(r.parsed, TokenResponse), r.status_code)
    tokens = r.parsed

    authed = AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)
    r = me.sync_detailed(client=authed)
    check("me", r.status_code == 200 and isinstance(r.parsed, User) and r.parsed.email == email, r.status_code)

    r = list_products.sync_detailed(client=anon, per_page=5, q="kettle")
    check("list products", r.status_code == 200 and isinstance(r.parsed, ProductList), r.status_code)
    check("search finds something", len(r.parsed.items) > 0)
    first = r.parsed.items[0]

    r = get_product.sync_detailed(first.id, client=anon)
    check("open a product", r.status_code == 200 and r.parsed.id == first.id, r.status_code)

    r = login.sync_detailed(client=anon, body=LoginRequest(email=email, password="not the password 1"))
    check(
        "wrong password is a problem",
        r.status_code == 401 and isinstance(r.parsed, Problem) and r.parsed.code == "invalid_credentials",
        f"{r.status_code} {r.parsed!r}",
    )


if __name__ == "__main__":
    main(sys.argv[1])
