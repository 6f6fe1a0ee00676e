"""One mailbox, one address: the form the limits and duplicates count an address in.

`victim+1@example.jp` and `victim+2@example.jp` reach the same mailbox, and so do
`v.i.c.t.i.m@gmail.com` and `victim@googlemail.com`. Counting them apart would let anyone
send one mailbox more confirmation mails than the per-address limit allows. Mails still go
to the address exactly as it was typed; this form is only for counting and comparing.
"""

# Providers that ignore dots in the local part; all of them are one mailbox domain.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_address(email: str) -> str:
    """Return the address as limits count it: lower case, without a "+tag" in the local part
    (for every provider, as is common), and without dots where the provider ignores them."""
    local, _at, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local  # "+only@…" keeps what it has
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "") or local
        domain = DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"
